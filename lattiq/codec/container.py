"""The ``.ltq`` container: a versioned header and an entropy-coded payload.

Layout (all integers big-endian)::

    offset  size  field
    0       8     magic  b"\\x89LTQ\\r\\n\\x1a\\n"  (PNG's trick: catches text-mode mangling)
    8       2     format version (uint16), currently 1
    10      4     header length H (uint32), at most 65,536
    14      H     header: canonical JSON (UTF-8, sorted keys, no spaces)
    14+H    4     CRC-32 of the header bytes
    18+H    P     payload: the range coder's uint32 words, big-endian

The header says everything the decoder must agree with (see :data:`HEADER_SCHEMA`):
the tokenizer's name and SHA-256 fingerprint, the image size and mode, the tiling, the
probability model with its parameters and their hash, the coder, the token count with a
CRC-32 of the tokens, and the payload's length and SHA-256. :func:`unpack` checks all of it
before any decoding starts; nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

__all__ = [
    "CodecFileError",
    "FORMAT_VERSION",
    "HEADER_SCHEMA",
    "MAGIC",
    "canonical_json",
    "pack",
    "sha256_hex",
    "unpack",
]

MAGIC = b"\x89LTQ\r\n\x1a\n"
FORMAT_VERSION = 1
MAX_HEADER = 1 << 16
_PREFIX = struct.Struct(">8sHI")


class CodecFileError(ValueError):
    """A compressed file that cannot be decoded: not ours, too new, truncated or corrupted."""


def canonical_json(obj: Any) -> bytes:
    """The one byte string of a JSON value: sorted keys, no spaces, ASCII only."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")  # fmt: skip


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- header schema ----------------------------------------------------------------------------

_HEX64 = "hex64"

#: Every header key and its type: ``int`` (non-negative), ``str``, ``"hex64"`` (a SHA-256 in
#: lowercase hex), ``dict`` (free JSON object), ``list`` or a nested schema.
HEADER_SCHEMA: dict[str, Any] = {
    "tokenizer": {"name": str, "sha256": _HEX64, "image_size": int, "channels": int,
                  "codebook_size": int, "scales": list},
    "image": {"width": int, "height": int, "mode": str},
    "tiling": {"tile": int, "rows": int, "cols": int, "pad": str},
    "model": {"name": str, "params": dict, "sha256": _HEX64},
    "coder": {"name": str, "precision": int},
    "tokens": {"count": int, "crc32": int},
    "payload": {"length": int, "sha256": _HEX64},
}


def _check(schema: dict, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise CodecFileError(f"corrupted header: {where or 'header'} is not an object")
    missing = sorted(set(schema) - set(value))
    extra = sorted(set(value) - set(schema))
    if missing or extra:
        raise CodecFileError(f"corrupted header: {where or 'header'} has missing keys "
                             f"{missing} / unknown keys {extra}")
    for key, kind in schema.items():
        v, here = value[key], f"{where}.{key}" if where else key
        if isinstance(kind, dict):
            _check(kind, v, here)
        elif kind is int:
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise CodecFileError(f"corrupted header: {here} must be an integer >= 0")
        elif kind == _HEX64:
            if not (isinstance(v, str) and len(v) == 64
                    and all(c in "0123456789abcdef" for c in v)):
                raise CodecFileError(f"corrupted header: {here} must be a SHA-256 in hex")
        elif not isinstance(v, kind):
            raise CodecFileError(f"corrupted header: {here} must be a {kind.__name__}")


def pack(header: dict, payload: bytes) -> bytes:
    """Build a file from a header (without its ``payload`` entry) and the payload bytes."""
    header = dict(header)
    header["payload"] = {"length": len(payload), "sha256": sha256_hex(payload)}
    _check(HEADER_SCHEMA, header, "")
    h = canonical_json(header)
    if len(h) > MAX_HEADER:
        raise ValueError(f"header of {len(h)} bytes exceeds the {MAX_HEADER}-byte limit")
    return b"".join([_PREFIX.pack(MAGIC, FORMAT_VERSION, len(h)), h,
                     struct.pack(">I", zlib.crc32(h)), payload])  # fmt: skip


def unpack(data: bytes) -> tuple[dict, bytes]:
    """Split a file into ``(header, payload)``, checking everything that can be checked.

    Raises
    ------
    CodecFileError
        Wrong magic (not a lattiq compressed file), a newer format version, a truncated
        file, a header that fails its CRC or its schema, or a payload whose length or SHA-256
        differs from the header's.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise CodecFileError("not a lattiq compressed file (wrong magic bytes)")
    if len(data) < _PREFIX.size:
        raise CodecFileError("truncated file: the fixed header is incomplete")
    _, version, hlen = _PREFIX.unpack_from(data)
    if version > FORMAT_VERSION:
        raise CodecFileError(f"file format version {version} is newer than this lattiq "
                             f"reads (up to {FORMAT_VERSION}); upgrade lattiq")
    if version < 1:
        raise CodecFileError(f"corrupted file: format version {version}")
    if hlen > MAX_HEADER:
        raise CodecFileError(f"corrupted file: header length {hlen} exceeds {MAX_HEADER}")
    end = _PREFIX.size + hlen
    if len(data) < end + 4:
        raise CodecFileError("truncated file: the header is incomplete")
    h = data[_PREFIX.size : end]
    (crc,) = struct.unpack_from(">I", data, end)
    if zlib.crc32(h) != crc:
        raise CodecFileError("corrupted file: the header fails its CRC-32 check")
    try:
        header = json.loads(h.decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CodecFileError(f"corrupted header: not JSON ({err})") from None
    _check(HEADER_SCHEMA, header, "")
    payload = data[end + 4 :]
    want = header["payload"]["length"]
    if len(payload) < want:
        raise CodecFileError(f"truncated file: payload has {len(payload)} of {want} bytes")
    if len(payload) > want:
        raise CodecFileError(f"corrupted file: {len(payload) - want} bytes after the payload")
    if sha256_hex(payload) != header["payload"]["sha256"]:
        raise CodecFileError("corrupted file: the payload fails its SHA-256 check")
    return header, payload
