"""Save and load spherical codes, with their exact form, verified by SHA-256.

Two formats, chosen by the file name:

* ``.npy``: the float64 points ``(N, d)`` in a NumPy file, and a JSON sidecar
  ``<path>.json`` holding the metadata. The integer form is not stored twice: it is
  recovered by rounding ``points @ basis.T / scale`` and checked against its own hash.
* ``.safetensors``: one file (the `safetensors` layout: an 8-byte little-endian header
  length, a JSON header, then raw little-endian tensors) with tensors ``points`` (F64),
  ``int_vectors`` (integers, when the code has an exact form) and ``basis`` (F64, when the
  exact form needs one); the metadata sits in the header's ``__metadata__`` (strings).
  Written and read here without the ``safetensors`` package (which stays optional).

Metadata: ``format`` (``lattiq-spherical-code``), ``version``, ``name``, ``dim``, ``size``,
``sha256`` (of the float64 points, little-endian, C order) and, for an exact form,
``int_norm``, ``int_scale``, ``int_sha256`` (of the integer vectors as int64) and, when the
form has a basis, ``int_basis_sha256`` (of the basis as little-endian float64). Finally
``meta_sha256`` covers every other metadata field: the SHA-256 of the canonical JSON
``{key: str(value)}`` (sorted keys, no spaces) of all fields but itself and the sidecar's
``int_basis`` list (which ``int_basis_sha256`` covers).

:func:`load_code` recomputes every hash and refuses a tampered, truncated or inconsistent
file with a ``ValueError`` that says what is wrong. Each file is written atomically (a
temporary file renamed into place). The hashes catch corruption and
edits, not forgery (anyone can recompute them), so the meaning of the fields is checked
too: points must be finite unit vectors of the stated shape; an exact form's integer
vectors must all have the stated norm, its scale must be ``1/sqrt(norm)``, its basis
orthonormal, and it must reproduce the points; and a file whose ``name`` is a registered
code's name (``leech``, ``e8-shell2``, ...) must hold exactly that code's points (it then
loads as the registered code, with its structured search): no file can pass itself off as
``leech``. Version-1 files (no ``meta_sha256``) still load, with a warning, after all the
other checks.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import warnings

import numpy as np

from .code import ExactForm, SphericalCode, points_sha256

__all__ = ["FORMAT", "load_code", "save_code"]

FORMAT = "lattiq-spherical-code"
VERSION = 2
#: Format versions :func:`load_code` reads (1: no ``meta_sha256``).
_READABLE = (1, 2)
#: Largest allowed ``| |p| - 1 |`` of a loaded point, and ``|p - exact point|``.
_LOAD_TOL = 1e-9
_ST_DTYPES = {"F64": "<f8", "I8": "<i1", "I16": "<i2", "I32": "<i4", "I64": "<i8"}
_ST_NAMES = {np.dtype(v).str: k for k, v in _ST_DTYPES.items()}


def _int_sha256(V: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(V, dtype="<i8").tobytes()).hexdigest()


def _small_int(V: np.ndarray) -> np.ndarray:
    m = int(np.abs(V).max()) if V.size else 0
    for dt in (np.int8, np.int16, np.int32):
        if m <= np.iinfo(dt).max:
            return V.astype(dt)
    return V.astype(np.int64)


def _kind(path) -> str:
    p = os.fspath(path)
    if p.endswith(".npy"):
        return "npy"
    if p.endswith(".safetensors"):
        return "safetensors"
    raise ValueError(f"unsupported file name {p!r}: use a .npy or .safetensors extension")


def _basis_sha256(B: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(B, dtype="<f8").tobytes()).hexdigest()


def meta_sha256(meta: dict) -> str:
    """SHA-256 of the canonical form of the metadata fields a ``meta_sha256`` covers.

    .. math:: \\mathrm{sha256}(\\mathrm{json}(\\{k: \\mathrm{str}(v)\\}_{k \\ne
        \\text{meta\\_sha256}, \\text{int\\_basis}},\\ \\text{sorted keys}))
    """
    body = {str(k): str(v) for k, v in meta.items() if k not in ("meta_sha256", "int_basis")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _metadata(code: SphericalCode) -> dict:
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "name": code.name,
        "dim": code.dim,
        "size": code.size,
        "sha256": points_sha256(code.points),
    }
    e = code.exact_form
    if e is not None:
        meta.update(int_norm=int(e.norm), int_scale=float(e.scale),
                    int_sha256=_int_sha256(e.vectors))
        if e.basis is not None:
            meta["int_basis_sha256"] = _basis_sha256(e.basis)
    meta["meta_sha256"] = meta_sha256(meta)
    return meta


def save_code(code: SphericalCode, path) -> None:
    """Write ``code`` to ``path`` (``.npy`` plus ``<path>.json``, or ``.safetensors``).

    .. math:: \\mathrm{sha256}(\\text{points as little-endian float64})

    Codes too large to materialize (``bsq-<d>`` for large ``d``) are refused with the size
    their points would take.
    """
    if not isinstance(code, SphericalCode):
        raise TypeError(f"expected a SphericalCode, got {type(code).__name__}")
    kind = _kind(path)
    P = np.ascontiguousarray(code.points, dtype="<f8")
    meta = _metadata(code)
    if _registered_name(code.name):
        _registered(code.name, code.dim, code.size, meta["sha256"], os.fspath(path))
    e = code.exact_form
    p = os.fspath(path)
    if kind == "npy":
        if e is not None and e.basis is not None:
            meta["int_basis"] = e.basis.tolist()
        _atomic_write(p, lambda f: np.save(f, P, allow_pickle=False))
        _atomic_write(p + ".json", lambda f: f.write(json.dumps(meta, indent=1).encode()))
        return
    tensors = {"points": P}
    if e is not None:
        tensors["int_vectors"] = _small_int(np.asarray(e.vectors))
        if e.basis is not None:
            tensors["basis"] = np.ascontiguousarray(e.basis, dtype="<f8")
    _write_safetensors(p, tensors, {k: str(v) for k, v in meta.items()})


def _write_safetensors(path: str, tensors: dict, metadata: dict) -> None:
    header: dict = {"__metadata__": metadata}
    off = 0
    blobs = []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        b = a.tobytes()
        header[name] = {"dtype": _ST_NAMES[a.dtype.str], "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

    _atomic_write(path, write)


def _atomic_write(path: str, write) -> None:
    """Write a file through ``write(f)`` into a temporary name beside it, then rename it
    into place: a reader sees the old file or the whole new one, never half of one."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _json_loads(raw, what: str):
    """``json.loads`` with every failure (bad bytes, syntax, absurd nesting) as ValueError."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"{what}: unreadable JSON ({type(err).__name__}: {err})") from None


def _read_safetensors(path: str) -> tuple[dict, dict]:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path!r} is truncated: no safetensors header")
        (hlen,) = struct.unpack("<Q", raw)
        if hlen > size - 8:
            raise ValueError(f"{path!r} is truncated: header of {hlen} bytes in a file of {size}")
        header = _json_loads(f.read(hlen), f"{path!r} (safetensors header)")
        data = f.read()
    if not isinstance(header, dict):
        raise ValueError(f"{path!r}: the safetensors header is a JSON "
                         f"{type(header).__name__}, not an object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise ValueError(f"{path!r}: __metadata__ is a JSON {type(meta).__name__}, "
                         "not an object")
    tensors = {}
    for name, spec in header.items():
        try:
            dt = np.dtype(_ST_DTYPES[spec["dtype"]])
            shape = tuple(int(s) for s in spec["shape"])
            a, b = (int(v) for v in spec["data_offsets"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValueError(f"{path!r}: bad entry {name!r} in the safetensors header") from None
        if any(s < 0 for s in shape):
            raise ValueError(f"{path!r}: tensor {name!r} has a negative dimension {shape}")
        if b > len(data) or b - a != math.prod(shape) * dt.itemsize or a < 0:
            raise ValueError(f"{path!r} is truncated or corrupt: tensor {name!r} needs bytes "
                             f"{a}..{b} of {len(data)}")
        tensors[name] = np.frombuffer(data[a:b], dtype=dt).reshape(shape)
    return meta, tensors


def _check_meta(meta, path: str) -> dict:
    if not isinstance(meta, dict):
        raise ValueError(f"{path!r}: the metadata is a JSON {type(meta).__name__}, not an "
                         "object; this is not a lattiq spherical code file")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a lattiq spherical code (no format={FORMAT!r} tag)")
    try:
        version = int(meta.get("version", 1))
    except (TypeError, ValueError):
        raise ValueError(f"{path!r}: bad format version {meta.get('version')!r}") from None
    if version not in _READABLE:
        raise ValueError(f"{path!r}: format version {version} is not one this lattiq reads "
                         f"({', '.join(map(str, _READABLE))})")
    if version >= 2:
        if "meta_sha256" not in meta:
            raise ValueError(f"{path!r}: version {version} metadata without meta_sha256")
        if meta_sha256(meta) != str(meta["meta_sha256"]):
            raise ValueError(f"{path!r}: SHA-256 of the metadata (name, dim, size, hashes, "
                             "exact form) does not match meta_sha256; the metadata was "
                             "modified or corrupted")
    else:
        warnings.warn(f"{path!r}: format version 1 has no metadata hash; its fields are "
                      "checked against the points only", UserWarning, stacklevel=3)
    try:
        out = dict(meta)
        out["dim"] = _int_field(meta["dim"])
        out["size"] = _int_field(meta["size"])
        out["name"] = meta["name"]
        out["sha256"] = str(meta["sha256"])
        if "int_norm" in meta:
            out["int_norm"] = _int_field(meta["int_norm"])
            out["int_scale"] = float(meta["int_scale"])
            out["int_sha256"] = str(meta["int_sha256"])
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{path!r}: incomplete or malformed metadata ({err})") from None
    if not isinstance(out["name"], str) or not out["name"]:
        raise ValueError(f"{path!r}: the code name must be a non-empty string, got "
                         f"{out['name']!r}")
    if out["dim"] < 1 or out["size"] < 1:
        raise ValueError(f"{path!r}: dim and size must be >= 1, got {out['dim']}, "
                         f"{out['size']}")
    if "int_norm" in out and (out["int_norm"] < 1 or not math.isfinite(out["int_scale"])):
        raise ValueError(f"{path!r}: bad exact form (norm {out['int_norm']}, scale "
                         f"{out['int_scale']})")
    return out


def _int_field(v) -> int:
    """An integer metadata field (JSON int or its decimal string; not a float or bool)."""
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise TypeError(f"expected an integer, got {v!r}")
    return int(v)


def _check_points(P: np.ndarray, meta: dict, p: str) -> np.ndarray:
    if P.dtype.kind != "f" or P.dtype.itemsize != 8 or P.shape != (meta["size"], meta["dim"]):
        raise ValueError(f"{p!r}: points of dtype {P.dtype} and shape {P.shape}, but the "
                         f"metadata says float64 ({meta['size']}, {meta['dim']})")
    if points_sha256(P) != meta["sha256"]:
        raise ValueError(f"{p!r}: SHA-256 of the points does not match the metadata; the "
                         "file was modified or corrupted")
    P = np.array(P, dtype=np.float64)  # native byte order, writeable, owned
    if not np.isfinite(P).all():
        raise ValueError(f"{p!r}: the points hold NaN or Inf")
    err = np.abs(np.linalg.norm(P, axis=1) - 1.0)
    if err.size and not float(err.max()) <= _LOAD_TOL:
        raise ValueError(f"{p!r}: the points are not unit vectors (largest | |p| - 1 | is "
                         f"{float(err.max()):.3g})")
    return P


def _check_exact(P, V, basis, meta: dict, p: str) -> ExactForm:
    norm, scale = meta["int_norm"], meta["int_scale"]
    if abs(scale * math.sqrt(norm) - 1.0) > 1e-12:
        raise ValueError(f"{p!r}: exact-form scale {scale!r} is not 1/sqrt({norm})")
    if basis is not None:
        basis = np.array(basis, dtype=np.float64)
        if basis.ndim != 2 or basis.shape[1] != meta["dim"] or not np.isfinite(basis).all():
            raise ValueError(f"{p!r}: exact-form basis of shape {basis.shape} does not fit "
                             f"dimension {meta['dim']}")
        if "int_basis_sha256" in meta and _basis_sha256(basis) != meta["int_basis_sha256"]:
            raise ValueError(f"{p!r}: SHA-256 of the exact-form basis does not match the "
                             "metadata")
        if not np.allclose(basis.T @ basis, np.eye(basis.shape[1]), rtol=0, atol=1e-12):
            raise ValueError(f"{p!r}: exact-form basis columns are not orthonormal")
    elif "int_basis_sha256" in meta:
        raise ValueError(f"{p!r}: the metadata names an exact-form basis the file lacks")
    if V is None:
        W = P @ basis.T if basis is not None else P
        V = np.rint(W / scale)
        if not np.abs(V).max() < 2.0**31:
            raise ValueError(f"{p!r}: exact form too large")
        V = V.astype(np.int64)
    if _int_sha256(V) != meta["int_sha256"]:
        raise ValueError(f"{p!r}: SHA-256 of the integer form does not match the metadata")
    V = np.array(V, dtype=np.int64)
    width = basis.shape[0] if basis is not None else meta["dim"]
    if V.shape != (meta["size"], width):
        raise ValueError(f"{p!r}: integer form of shape {V.shape}, expected "
                         f"({meta['size']}, {width})")
    if V.size and int(np.abs(V).max()) ** 2 * width >= 2**53:
        raise ValueError(f"{p!r}: integer form too large for exact arithmetic")
    sq = np.einsum("ij,ij->i", V, V)
    if not (sq == norm).all():
        raise ValueError(f"{p!r}: the integer vectors do not all have the stated norm {norm}")
    form = ExactForm(_ro(V), scale, norm, None if basis is None else _ro(basis))
    if not np.abs(form.points() - P).max() <= _LOAD_TOL:
        raise ValueError(f"{p!r}: the exact form does not reproduce the points")
    return form


def load_code(path) -> SphericalCode:
    """Read a code written by :func:`save_code`, verifying shapes and SHA-256 hashes.

    Raises ``ValueError`` for a missing sidecar, a truncated file, a hash mismatch
    (tampered points or integer form) or inconsistent metadata.
    """
    kind = _kind(path)
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(f"no such file: {p!r}")
    basis = None
    V = None
    if kind == "npy":
        side = p + ".json"
        if not os.path.exists(side):
            raise ValueError(f"missing metadata sidecar {side!r}: cannot verify {p!r}")
        with open(side, "rb") as f:
            meta = _check_meta(_json_loads(f.read(), repr(side)), side)
        try:
            P = np.load(p, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise ValueError(f"{p!r} is truncated or not a .npy file ({err})") from None
        if not isinstance(P, np.ndarray):  # pragma: no cover - np.load of a .npy name
            raise ValueError(f"{p!r} is not a single .npy array")
        if meta.get("int_basis") is not None:
            try:
                basis = np.asarray(meta["int_basis"], dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{side!r}: malformed int_basis ({err})") from None
    else:
        raw, tensors = _read_safetensors(p)
        meta = _check_meta(raw, p)
        if "points" not in tensors:
            raise ValueError(f"{p!r} has no 'points' tensor")
        P = tensors["points"]
        V = tensors.get("int_vectors")
        basis = tensors.get("basis")
    P = _check_points(P, meta, p)
    exact = _check_exact(P, V, basis, meta, p) if "int_norm" in meta else None
    if _registered_name(meta["name"]):
        return _registered(meta["name"], meta["dim"], meta["size"], meta["sha256"], p)
    return SphericalCode(meta["name"], meta["dim"], meta["size"], points=P, exact_form=exact)


def _registered_name(name: str) -> bool:
    from .registry import is_registered_name

    return is_registered_name(name)


def _registered(name: str, dim: int, size: int, sha: str, path: str) -> SphericalCode:
    """The registered code ``name``, after checking that it has these points; else
    ``ValueError`` (a file or a code may not borrow a registered name)."""
    from .registry import get_code

    try:
        C = get_code(name)
        ok = (C.dim, C.size) == (dim, size) and C.sha256 == sha
    except ValueError as err:
        raise ValueError(f"{path!r}: the code calls itself {name!r}, a registered code name, "
                         f"and that code cannot be built to check it ({err})") from None
    if not ok:
        raise ValueError(
            f"{path!r}: the code calls itself {name!r}, a registered code, but its points "
            f"are not that code's ({size} x {dim}, sha256 {sha[:12]}..., registered: "
            f"{C.size} x {C.dim}); give it another name"
        )
    return C


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
