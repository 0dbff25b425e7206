"""Reading images (modes, refusals) and tiling (against a per-pixel oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lattiq.codec.image import PADS, from_tiles, read_image, to_tiles, write_image


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.integers(1, 50), st.integers(1, 17), st.sampled_from([1, 3]),
       st.sampled_from(PADS))
def test_tiles_round_trip_and_edge_padding(h, w, s, c, pad):
    rng = np.random.default_rng(h * 1000 + w * 10 + s)
    a = rng.integers(0, 256, (h, w, c)).astype(np.uint8)
    tiles, r, q = to_tiles(a, s, pad)
    assert tiles.shape == (r * q, s, s, c) and r * s >= h > (r - 1) * s
    assert np.array_equal(from_tiles(tiles, r, q, h, w, pad), a)
    # oracle: pixel (y, x) of tile (i, j) is the image at (i s + y - top, j s + x - left),
    # clipped to the image; the padding above/left is half of it (rounded down) or none
    top = (r * s - h) // 2 if pad == "edge-centre" else 0
    left = (q * s - w) // 2 if pad == "edge-centre" else 0
    i, j, y, x = rng.integers(0, r), rng.integers(0, q), rng.integers(0, s), rng.integers(0, s)
    want = a[min(max(i * s + y - top, 0), h - 1), min(max(j * s + x - left, 0), w - 1)]
    assert np.array_equal(tiles[i * q + j, y, x], want)


def test_centred_padding_frames_fashion_mnist_as_the_generator_does():
    a = np.zeros((28, 28, 1), np.uint8)
    a[0, 0] = a[27, 27] = 255
    tiles, r, q = to_tiles(a, 32)  # default: centred
    assert (r, q) == (1, 1) and tiles[0, 2, 2, 0] == 255 and tiles[0, 29, 29, 0] == 255
    tiles, _, _ = to_tiles(a, 32, "edge")
    assert tiles[0, 0, 0, 0] == 255 and tiles[0, 27, 27, 0] == 255
    with pytest.raises(ValueError, match="padding"):
        to_tiles(a, 32, "zero")


def _save(tmp_path, im, name="x.png"):
    p = tmp_path / name
    im.save(p)
    return p


def test_supported_modes(tmp_path):
    rgb = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    p = _save(tmp_path, Image.fromarray(rgb))
    assert np.array_equal(read_image(p, 3), rgb)
    gray = read_image(p, 1)
    assert gray.shape == (5, 7, 1)
    assert np.array_equal(gray[:, :, 0], np.asarray(Image.fromarray(rgb).convert("L")))
    pl = _save(tmp_path, Image.fromarray(rgb).convert("P"), "p.png")
    assert read_image(pl, 3).shape == (5, 7, 3)
    bw = _save(tmp_path, Image.fromarray(rgb).convert("1"), "b.png")
    assert set(np.unique(read_image(bw, 1))) <= {0, 255}
    l_ = _save(tmp_path, Image.fromarray(rgb[:, :, 0]), "l.png")
    assert np.array_equal(read_image(l_, 3), np.repeat(rgb[:, :, :1], 3, 2))


@pytest.mark.parametrize("kind", ["RGBA", "LA", "P+transparency", "I;16", "F", "CMYK"])
def test_unsupported_modes_are_refused(tmp_path, kind):
    rgb = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    if kind == "P+transparency":
        im = Image.fromarray(rgb).convert("P")
        im.info["transparency"] = 0
        p = tmp_path / "t.png"
        im.save(p, transparency=0)
    elif kind == "I;16":
        p = tmp_path / "a.png"
        Image.fromarray(np.full((4, 4), 40000, np.uint16)).save(p)
    elif kind == "F":
        p = tmp_path / "a.tif"
        Image.fromarray(np.ones((4, 4), np.float32)).save(p)
    elif kind == "CMYK":
        p = tmp_path / "a.jpg"
        Image.fromarray(rgb).convert("CMYK").save(p)
    else:
        p = _save(tmp_path, Image.fromarray(rgb).convert(kind))
    with pytest.raises(ValueError, match="unsupported image mode"):
        read_image(p, 3)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png", 3)
    p = tmp_path / "junk.png"
    p.write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match="not an image"):
        read_image(p, 3)
    good = _save(tmp_path, Image.fromarray(np.zeros((64, 64, 3), np.uint8)), "g.png")
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:60])
    with pytest.raises(ValueError):
        read_image(cut, 3)
    with pytest.raises(ValueError):
        write_image(tmp_path / "o.png", np.zeros((2, 2, 2), np.uint8))
