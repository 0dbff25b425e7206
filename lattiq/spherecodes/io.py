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
``int_norm``, ``int_scale`` and ``int_sha256`` (of the integer vectors as int64).

:func:`load_code` recomputes both hashes and refuses a tampered, truncated or inconsistent
file with a ``ValueError`` that says what is wrong. A file whose name and points match a
registered code loads as that code (with its structured search).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct

import numpy as np

from .code import ExactForm, SphericalCode, points_sha256

__all__ = ["FORMAT", "load_code", "save_code"]

FORMAT = "lattiq-spherical-code"
VERSION = 1
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
    e = code.exact_form
    p = os.fspath(path)
    if kind == "npy":
        if e is not None and e.basis is not None:
            meta["int_basis"] = e.basis.tolist()
        np.save(p, P, allow_pickle=False)
        with open(p + ".json", "w") as f:
            json.dump(meta, f, indent=1)
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
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def _read_safetensors(path: str) -> tuple[dict, dict]:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path!r} is truncated: no safetensors header")
        (hlen,) = struct.unpack("<Q", raw)
        if hlen > size - 8:
            raise ValueError(f"{path!r} is truncated: header of {hlen} bytes in a file of {size}")
        try:
            header = json.loads(f.read(hlen))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path!r}: unreadable safetensors header ({err})") from None
        data = f.read()
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, spec in header.items():
        try:
            dt = np.dtype(_ST_DTYPES[spec["dtype"]])
            shape = tuple(int(s) for s in spec["shape"])
            a, b = (int(v) for v in spec["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path!r}: bad entry {name!r} in the safetensors header") from None
        if b > len(data) or b - a != math.prod(shape) * dt.itemsize or a < 0:
            raise ValueError(f"{path!r} is truncated or corrupt: tensor {name!r} needs bytes "
                             f"{a}..{b} of {len(data)}")
        tensors[name] = np.frombuffer(data[a:b], dtype=dt).reshape(shape)
    return meta, tensors


def _check_meta(meta: dict, path: str) -> dict:
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a lattiq spherical code (no format={FORMAT!r} tag)")
    try:
        out = dict(meta)
        out["dim"] = int(meta["dim"])
        out["size"] = int(meta["size"])
        out["name"] = str(meta["name"])
        out["sha256"] = str(meta["sha256"])
        if "int_norm" in meta:
            out["int_norm"] = int(meta["int_norm"])
            out["int_scale"] = float(meta["int_scale"])
            out["int_sha256"] = str(meta["int_sha256"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path!r}: incomplete metadata ({err})") from None
    return out


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
        try:
            with open(side) as f:
                meta = _check_meta(json.load(f), side)
        except json.JSONDecodeError as err:
            raise ValueError(f"{side!r}: unreadable JSON ({err})") from None
        try:
            P = np.load(p, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise ValueError(f"{p!r} is truncated or not a .npy file ({err})") from None
        if meta.get("int_basis") is not None:
            basis = np.asarray(meta["int_basis"], dtype=np.float64)
    else:
        raw, tensors = _read_safetensors(p)
        meta = _check_meta(raw, p)
        if "points" not in tensors:
            raise ValueError(f"{p!r} has no 'points' tensor")
        P = tensors["points"]
        V = tensors.get("int_vectors")
        basis = tensors.get("basis")
    if P.dtype != np.float64 or P.shape != (meta["size"], meta["dim"]):
        raise ValueError(f"{p!r}: points of dtype {P.dtype} and shape {P.shape}, but the "
                         f"metadata says float64 ({meta['size']}, {meta['dim']})")
    if points_sha256(P) != meta["sha256"]:
        raise ValueError(f"{p!r}: SHA-256 of the points does not match the metadata; the "
                         "file was modified or corrupted")
    exact = None
    if "int_norm" in meta:
        scale = meta["int_scale"]
        if V is None:
            W = P @ basis.T if basis is not None else P
            V = np.rint(W / scale).astype(np.int64)
        if _int_sha256(V) != meta["int_sha256"]:
            raise ValueError(f"{p!r}: SHA-256 of the integer form does not match the metadata")
        exact = ExactForm(_ro(np.array(V)), scale, meta["int_norm"],
                          None if basis is None else _ro(np.array(basis, dtype=np.float64)))
    registered = _registered(meta["name"], meta["dim"], meta["size"], meta["sha256"])
    if registered is not None:
        return registered
    return SphericalCode(meta["name"], meta["dim"], meta["size"],
                         points=np.array(P, dtype=np.float64), exact_form=exact)


def _registered(name: str, dim: int, size: int, sha: str):
    from .registry import get_code

    try:
        C = get_code(name)
    except (ValueError, TypeError):
        return None
    if (C.dim, C.size) != (dim, size):
        return None
    try:
        return C if C.sha256 == sha else None
    except ValueError:
        return None


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
