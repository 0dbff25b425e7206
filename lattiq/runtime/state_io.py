"""Training state as data: nested optimizer / scheduler / RNG state <-> tensors + JSON.

A checkpoint's training state (``optimizer.state_dict()``, a scheduler's state, every
rank's RNG state, counters) is a tree of dicts, lists and tuples whose leaves are tensors,
numpy arrays and plain scalars. :func:`pack_state` splits such a tree into a flat
``{key: tensor}`` dict, stored with safetensors, and a JSON *skeleton* that holds
everything else and names each tensor by its key; :func:`unpack_state` puts them back
together. Both files are data only: reading them runs no code, unlike a pickle
(``torch.save`` / ``torch.load(weights_only=False)``), so a checkpoint handed over by
someone else cannot execute anything.

The round trip is exact: tensors keep dtype, shape and bits; floats are written with
``repr`` (which reads back to the same double); tuples stay tuples, dicts with integer keys
(optimizer state) keep them. Anything else (an object, a numpy scalar, a function) is
refused when saving, naming where it sits in the tree.

Skeleton markers, each a JSON object with a single ``"__...__"`` key (plain dicts whose
keys could be mistaken for one are written as ``__dict__``)::

    {"__tensor__": "7"}                       tensor number 7 of the tensor file
    {"__ndarray__": "8", "dtype": "<u4"}      numpy array (stored widened, read back exact)
    {"__tuple__": [...]}                      tuple
    {"__dict__": [[key, value], ...]}         dict with non-string (or marker-like) keys
    {"__float__": "nan"}                      nan, inf, -inf
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import torch
from safetensors.torch import load, save

__all__ = ["FORMAT", "pack_state", "state_from_bytes", "state_to_bytes", "unpack_state"]

#: Written into every skeleton; a file that names another format is refused.
FORMAT = "lattiq-state-v1"

#: numpy dtypes a state may hold, and the torch dtype each is stored as (lossless).
_NDARRAY_STORAGE = {
    "b": torch.bool,
    "i": torch.int64,
    "u": torch.int64,
    "f": torch.float64,
}
_MARKERS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__float__")


def _ndarray_dtype(dtype: np.dtype, where: str) -> np.dtype:
    if dtype.kind not in _NDARRAY_STORAGE or (dtype.kind == "u" and dtype.itemsize > 4):
        raise TypeError(
            f"state entry {where}: numpy dtype {dtype} is not supported (bool, signed "
            "integers, unsigned integers up to 32 bits and floats are)"
        )
    return dtype


def pack_state(tree: Any) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``tree`` into ``(tensors, skeleton)``; see the module docstring.

    Tensors are copied to the CPU (contiguous, one storage each, as safetensors needs).

    Raises
    ------
    TypeError
        If a leaf is not a tensor, numpy array, ``str``, ``int``, ``float``, ``bool`` or
        ``None``, or a container is not exactly a ``dict``, ``list`` or ``tuple``.
    """
    tensors: dict[str, torch.Tensor] = {}

    def enc(v: Any, where: str) -> Any:
        t = type(v)
        if v is None or t is bool or t is str or t is int:
            return v
        if t is float:
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, torch.Tensor):
            key = str(len(tensors))
            tensors[key] = v.detach().to("cpu").contiguous().clone()
            return {"__tensor__": key}
        if t is np.ndarray:
            dtype = _ndarray_dtype(v.dtype, where)
            key = str(len(tensors))
            wide = np.ascontiguousarray(v).astype(_np_storage(dtype))
            tensors[key] = torch.from_numpy(wide).clone()
            return {"__ndarray__": key, "dtype": dtype.str}
        if t is tuple:
            return {"__tuple__": [enc(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if t is list:
            return [enc(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if t is dict:
            if all(type(k) is str and not k.startswith("__") for k in v):
                return {k: enc(x, f"{where}.{k}") for k, x in v.items()}
            items = []
            for k, x in v.items():
                if k is not None and type(k) not in (str, int, bool, float):
                    raise TypeError(
                        f"state entry {where or '<root>'}: dict key {k!r} of type "
                        f"{type(k).__name__} cannot be stored (str, int, float, bool or None "
                        "keys can)"
                    )
                items.append([enc(k, f"{where}<key>"), enc(x, f"{where}[{k!r}]")])
            return {"__dict__": items}
        raise TypeError(
            f"state entry {where or '<root>'}: a {t.__name__} cannot be stored in a "
            "checkpoint (tensors, numpy arrays, str, int, float, bool, None, and dicts, "
            "lists and tuples of them can)"
        )

    return tensors, {"format": FORMAT, "tree": enc(tree, "")}


def _np_storage(dtype: np.dtype) -> type:
    return {"b": np.bool_, "i": np.int64, "u": np.int64, "f": np.float64}[dtype.kind]


def unpack_state(skeleton: Any, tensors: dict[str, torch.Tensor], where: str = "state") -> Any:
    """Rebuild the tree :func:`pack_state` split; ``where`` names the source in errors.

    Raises
    ------
    ValueError
        If the skeleton is malformed, names another format, or refers to a tensor that is
        missing or of the wrong kind.
    """
    if not isinstance(skeleton, dict) or skeleton.get("format") != FORMAT:
        found = skeleton.get("format") if isinstance(skeleton, dict) else type(skeleton).__name__
        raise ValueError(f"{where}: not a {FORMAT} state (format {found!r})")

    def bad(msg: str) -> ValueError:
        return ValueError(f"{where}: malformed state: {msg}")

    def tensor(key: Any) -> torch.Tensor:
        if not isinstance(key, str) or key not in tensors:
            raise bad(f"it names tensor {key!r}, which the tensor file does not hold")
        return tensors[key]

    def dec(v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, list):
            return [dec(x) for x in v]
        if not isinstance(v, dict):
            raise bad(f"unexpected JSON value {v!r}")
        marker = [k for k in v if k in _MARKERS]
        if not marker:
            if any(k.startswith("__") for k in v):
                raise bad(f"unknown marker in {sorted(v)[:4]}")
            return {k: dec(x) for k, x in v.items()}
        m = marker[0]
        extra = set(v) - {m, "dtype"} if m == "__ndarray__" else set(v) - {m}
        if extra:
            raise bad(f"marker {m} with extra keys {sorted(extra)}")
        x = v[m]
        if m == "__tensor__":
            return tensor(x)
        if m == "__ndarray__":
            try:
                dtype = np.dtype(v.get("dtype"))
                dtype = _ndarray_dtype(dtype, "")
            except (TypeError, ValueError) as e:
                raise bad(f"array dtype {v.get('dtype')!r}: {e}") from None
            t = tensor(x)
            if t.dtype != _NDARRAY_STORAGE[dtype.kind]:
                raise bad(f"array tensor {x!r} has dtype {t.dtype}")
            arr = t.numpy()
            out = arr.astype(dtype)
            if not np.array_equal(out.astype(arr.dtype), arr):
                raise bad(f"array tensor {x!r} holds values outside {dtype}")
            return out
        if m == "__tuple__":
            if not isinstance(x, list):
                raise bad("__tuple__ must hold a list")
            return tuple(dec(i) for i in x)
        if m == "__dict__":
            if not isinstance(x, list) or not all(isinstance(p, list) and len(p) == 2
                                                  for p in x):
                raise bad("__dict__ must hold [key, value] pairs")
            out = {}
            for k, val in x:
                key = dec(k)
                if key is not None and type(key) not in (str, int, bool, float):
                    raise bad(f"dict key {k!r}")
                out[key] = dec(val)
            return out
        if x not in ("nan", "inf", "-inf"):
            raise bad(f"__float__ {x!r}")
        return float(x)

    try:
        return dec(skeleton.get("tree"))
    except RecursionError:
        raise bad("nested too deeply") from None


def state_to_bytes(tree: Any) -> tuple[bytes, bytes]:
    """``(safetensors bytes, JSON bytes)`` of ``tree``."""
    tensors, skeleton = pack_state(tree)
    return save(tensors), (json.dumps(skeleton, allow_nan=False) + "\n").encode()


def state_from_bytes(tensor_bytes: bytes, json_bytes: bytes, where: str = "state") -> Any:
    """Inverse of :func:`state_to_bytes`; errors are ``ValueError`` naming ``where``."""
    try:
        skeleton = json.loads(json_bytes)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{where}: the JSON part is not valid JSON ({e})") from None
    try:
        tensors = load(tensor_bytes)
    except Exception as e:  # safetensors raises its own error type for a malformed file
        raise ValueError(f"{where}: the tensor part is not a valid safetensors file ({e})"
                         ) from None
    return unpack_state(skeleton, tensors, where)
