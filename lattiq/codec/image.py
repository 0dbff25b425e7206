"""Images in and out of the codec: reading with Pillow, modes, tiling and cropping back.

Shape legend: ``H, W`` image height and width, ``C`` channels (1 or 3), ``S`` the
tokenizer's image side (one tile), ``R, Q`` tile rows and columns, ``N = R·Q`` tiles.

An image is brought to the tokenizer's channel count (gray ``L`` or ``RGB``), padded to whole
tiles by repeating its edge pixels, and cut into ``S × S`` tiles in row-major order; the
decoder stitches the reconstructed tiles and crops the padding off. The padding is split
evenly between the two sides (``"edge-centre"``, the default: a 28-pixel image sits in the
middle of a 32-pixel tile, as ``train-var`` frames Fashion-MNIST) or all on the right and
bottom (``"edge"``, what files written before this option use; still read).
"""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from lattiq.data import get_dataset

__all__ = [
    "DEFAULT_PAD",
    "MAX_PIXELS",
    "PADS",
    "dataset_images",
    "SUPPORTED_MODES",
    "from_tiles",
    "image_to_array",
    "pad_offsets",
    "read_image",
    "tile_grid",
    "to_tiles",
    "write_image",
]

#: Paddings a file may name; new files use the first.
PADS = ("edge-centre", "edge")
DEFAULT_PAD = PADS[0]
#: Pillow modes the codec reads; palette images only without transparency.
SUPPORTED_MODES = ("1", "L", "P", "RGB")
#: Largest image (pixels) the codec reads or a header may claim.
MAX_PIXELS = 1 << 28
_MODE_HELP = {
    "LA": "it has an alpha channel",
    "RGBA": "it has an alpha channel",
    "RGBa": "it has an alpha channel",
    "La": "it has an alpha channel",
    "PA": "it is a palette image with alpha",
    "I": "it has 32-bit integer samples",
    "F": "it has floating-point samples",
    "CMYK": "it is CMYK",
}


def _mode_error(mode: str, why: str | None = None) -> ValueError:
    why = why or _MODE_HELP.get(mode) or (
        "it has 16-bit samples" if mode.startswith("I;16") else "that mode is not supported")
    return ValueError(f"unsupported image mode {mode!r} ({why}); the codec reads 8-bit "
                      f"gray, RGB or palette images without transparency (modes "
                      f"{', '.join(SUPPORTED_MODES)}): convert it first, e.g. flatten the "
                      "alpha channel onto a background")


def image_to_array(im, channels: int) -> np.ndarray:
    """A Pillow image -> uint8 (H, W, C) with ``C = channels`` (1: gray, 3: RGB)."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    mode = im.mode
    if mode not in SUPPORTED_MODES:
        raise _mode_error(mode)
    if mode == "P" and ("transparency" in im.info or im.palette is not None
                        and im.palette.mode == "RGBA"):  # fmt: skip
        raise _mode_error(mode, "it is a palette image with transparency")
    w, h = im.size
    if w < 1 or h < 1:
        raise ValueError(f"empty image ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise ValueError(f"image of {w}x{h} pixels is larger than the codec's limit "
                         f"({MAX_PIXELS} pixels)")
    arr = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.uint8)
    if channels == 1:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr)


def read_image(path: str | os.PathLike, channels: int) -> np.ndarray:
    """Read an image file with Pillow as uint8 (H, W, C); see :func:`image_to_array`."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"no image file at {p!r}")
    try:
        with Image.open(p) as im:
            im.load()
            return image_to_array(im, channels)
    except UnidentifiedImageError:
        raise ValueError(f"{p!r} is not an image Pillow can read") from None
    except Image.DecompressionBombError as err:
        raise ValueError(f"{p!r}: {err}") from None
    except OSError as err:  # truncated or broken image data
        raise ValueError(f"cannot read image {p!r}: {err}") from None


def write_image(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Write uint8 (H, W, 1 or 3) with Pillow; the format follows the file name (PNG is
    lossless and keeps the reconstruction bit for bit)."""
    a = np.asarray(arr)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (1, 3):
        raise ValueError(f"expected uint8 (H, W, 1|3), got {a.dtype} {a.shape}")
    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a, mode="L" if a.shape[2] == 1
                         else "RGB")  # fmt: skip
    try:
        im.save(os.fspath(path))
    except (KeyError, ValueError) as err:  # unknown extension
        raise ValueError(f"cannot write {os.fspath(path)!r}: {err}") from None


def tile_grid(height: int, width: int, tile: int) -> tuple[int, int]:
    """Tile rows and columns ``(R, Q)`` covering an ``H × W`` image with ``S × S`` tiles."""
    if tile < 1:
        raise ValueError(f"tile side must be positive, got {tile}")
    return math.ceil(height / tile), math.ceil(width / tile)


def pad_offsets(height: int, width: int, tile: int, pad: str = DEFAULT_PAD) -> tuple[int, int]:
    """Rows and columns of padding above and left of the image (see the module docstring)."""
    if pad not in PADS:
        raise ValueError(f"padding must be one of {PADS}, got {pad!r}")
    if pad == "edge":
        return 0, 0
    r, q = tile_grid(height, width, tile)
    return (r * tile - height) // 2, (q * tile - width) // 2


def to_tiles(arr: np.ndarray, tile: int, pad: str = DEFAULT_PAD) -> tuple[np.ndarray, int, int]:
    """uint8 (H, W, C) -> (tiles uint8 (N, S, S, C), R, Q), edge padding as ``pad`` says."""
    h, w, _ = arr.shape
    r, q = tile_grid(h, w, tile)
    top, left = pad_offsets(h, w, tile, pad)
    padded = np.pad(arr, ((top, r * tile - h - top), (left, q * tile - w - left), (0, 0)),
                    mode="edge")
    tiles = padded.reshape(r, tile, q, tile, -1).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(tiles.reshape(r * q, tile, tile, -1)), r, q


def from_tiles(tiles: np.ndarray, rows: int, cols: int, height: int, width: int,
               pad: str = DEFAULT_PAD) -> np.ndarray:
    """Inverse of :func:`to_tiles`: (N, S, S, C) -> (H, W, C), padding cropped."""
    n, s, _, c = tiles.shape
    if n != rows * cols:
        raise ValueError(f"{n} tiles do not make a {rows}x{cols} grid")
    full = tiles.reshape(rows, cols, s, s, c).transpose(0, 2, 1, 3, 4).reshape(rows * s,
                                                                              cols * s, c)
    top, left = pad_offsets(height, width, s, pad)
    return np.ascontiguousarray(full[top : top + height, left : left + width])


def dataset_images(data: str, split: str, size: int, channels: int, limit: int | None = None,
                   root: str | None = None):
    """uint8 (H, W, C) images of a :mod:`lattiq.data` dataset as the codec sees them:
    Fashion-MNIST at its native 28 px, natural crops and folder images at ``size``, in
    ``channels`` channels (converted as :func:`read_image` converts files)."""
    native = 28 if data == "fashion-mnist" else size
    ds = get_dataset(data, split, native, root=root)
    n = len(ds) if limit is None else min(int(limit), len(ds))
    for i in range(n):
        x = ds[i]["image"]  # (C, S, S) in [-1, 1]
        a = ((x.permute(1, 2, 0).numpy() + 1.0) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)
        im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)
        yield image_to_array(im, channels)
