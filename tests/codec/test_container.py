"""The .ltq container: round trip, and every kind of damage gives CodecFileError."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from lattiq.codec.container import (
    FORMAT_VERSION,
    MAGIC,
    CodecFileError,
    canonical_json,
    pack,
    unpack,
)

HEADER = {
    "tokenizer": {"name": "runs/tok", "sha256": "a" * 64, "image_size": 16, "channels": 3,
                  "codebook_size": 196560, "scales": [4]},
    "image": {"width": 5, "height": 7, "mode": "RGB"},
    "tiling": {"tile": 16, "rows": 1, "cols": 1, "pad": "edge"},
    "model": {"name": "uniform", "params": {"codebook_size": 196560}, "sha256": "b" * 64},
    "coder": {"name": "constriction-range", "precision": 24},
    "tokens": {"count": 16, "crc32": 12345},
}  # fmt: skip


def _file(payload=b"\x01\x02\x03\x04" * 5):
    return pack(HEADER, payload)


def test_round_trip_and_canonical_header():
    data = _file()
    header, payload = unpack(data)
    assert payload == b"\x01\x02\x03\x04" * 5
    assert header["payload"]["length"] == 20
    assert {k: v for k, v in header.items() if k != "payload"} == HEADER
    assert data.startswith(MAGIC)
    (hlen,) = struct.unpack_from(">I", data, 10)
    assert data[14 : 14 + hlen] == canonical_json(header)


def test_wrong_magic():
    with pytest.raises(CodecFileError, match="not a lattiq compressed file"):
        unpack(b"\x89PNG\r\n\x1a\n" + _file()[8:])
    with pytest.raises(CodecFileError, match="wrong magic"):
        unpack(b"")


def test_newer_version_is_refused():
    data = bytearray(_file())
    struct.pack_into(">H", data, 8, FORMAT_VERSION + 1)
    with pytest.raises(CodecFileError, match="newer than this lattiq"):
        unpack(bytes(data))


def test_every_truncation_is_refused():
    data = _file()
    for n in range(len(data)):
        with pytest.raises(CodecFileError):
            unpack(data[:n])


def test_every_single_byte_corruption_is_refused():
    data = _file()
    rng = np.random.default_rng(5)
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= int(rng.integers(1, 256))
        with pytest.raises(CodecFileError):
            unpack(bytes(bad))


def test_trailing_bytes_and_bad_schema():
    with pytest.raises(CodecFileError, match="after the payload"):
        unpack(_file() + b"\x00")

    def forge(header: dict) -> bytes:
        h = canonical_json(header)
        return MAGIC + struct.pack(">HI", 1, len(h)) + h + struct.pack(">I", zlib.crc32(h))

    good = unpack(_file(b""))[0]
    for broken in (
        {k: v for k, v in good.items() if k != "image"},
        {**good, "extra": 1},
        {**good, "image": {**good["image"], "width": -1}},
        {**good, "image": {**good["image"], "width": True}},
        {**good, "tokenizer": {**good["tokenizer"], "sha256": "xyz"}},
        {**good, "model": {**good["model"], "params": []}},
        [1, 2],
    ):
        with pytest.raises(CodecFileError, match="corrupted header"):
            unpack(forge(broken))
    with pytest.raises(CodecFileError, match="not JSON"):
        h = b"{not json"
        unpack(MAGIC + struct.pack(">HI", 1, len(h)) + h + struct.pack(">I", zlib.crc32(h)))


def test_pack_checks_its_header():
    with pytest.raises(CodecFileError):
        pack({**HEADER, "image": {"width": 1}}, b"")
    with pytest.raises(TypeError):
        unpack("text")
