"""Random crops of the natural photos bundled in the scikit-image and scikit-learn wheels.

No download: the photos ship inside the installed packages. Training crops come from one
set of photos and evaluation crops from a disjoint, held-out set, so that reconstruction is
measured on images the tokenizer never saw.

Training photos (scikit-image unless noted): astronaut, coffee, hubble_deep_field, ihc,
motorcycle_left, retina, rocket, brick, grass, gravel, moon, coins, and scikit-learn's
``china.jpg``. Held-out photos: chelsea (the cat), camera (the cameraman) and
scikit-learn's ``flower.jpg``. (``motorcycle_right`` is left out: it is the stereo twin of
``motorcycle_left``.) Grayscale photos are repeated to three channels.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = ["TEST_PHOTOS", "TRAIN_PHOTOS", "NaturalCrops", "load_photo"]

TRAIN_PHOTOS = (
    "skimage:astronaut.png", "skimage:coffee.png", "skimage:hubble_deep_field.jpg",
    "skimage:ihc.png", "skimage:motorcycle_left.png", "skimage:retina.jpg",
    "skimage:rocket.jpg", "skimage:brick.png", "skimage:grass.png", "skimage:gravel.png",
    "skimage:moon.png", "skimage:coins.png", "sklearn:china.jpg",
)  # fmt: skip
TEST_PHOTOS = ("skimage:chelsea.png", "skimage:camera.png", "sklearn:flower.jpg")
#: Number of fixed evaluation crops per held-out photo.
TEST_CROPS_PER_PHOTO = 64
_TEST_SEED = 20251216


def _photo_path(name: str) -> str:
    lib, fname = name.split(":", 1)
    if lib == "skimage":
        import skimage.data

        return os.path.join(skimage.data.data_dir, fname)
    if lib == "sklearn":
        import sklearn.datasets

        return os.path.join(os.path.dirname(sklearn.datasets.__file__), "images", fname)
    raise ValueError(f"unknown photo source {lib!r}")


@lru_cache(maxsize=32)
def load_photo(name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB array of a bundled photo (``"skimage:astronaut.png"``)."""
    path = _photo_path(name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"bundled photo {name!r} not found at {path}; is scikit-image / scikit-learn "
            "installed (pip install 'lattiq[torch]')?"
        )
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"))
    arr.setflags(write=False)
    return arr


def _crop(photo: np.ndarray, rng: np.random.Generator, size: int, flip: bool) -> np.ndarray:
    """A square crop of random side in [size, min(H, W, 4·size)], resized to size."""
    h, w, _ = photo.shape
    hi = min(h, w, 4 * size)
    side = int(rng.integers(min(size, hi), hi + 1))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    crop = photo[y : y + side, x : x + side]
    if side != size:
        crop = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BICUBIC))
    if flip and rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop


class NaturalCrops(Dataset):
    """Square crops of bundled natural photos as (3, S, S) float tensors in ``[-1, 1]``.

    ``split="train"``: a virtual dataset of ``length`` random crops (random photo, side,
    position and horizontal flip), crop ``k`` drawn from a generator seeded by
    ``(seed, k)``, so it is the same whatever the workers. ``split="test"``:
    ``TEST_CROPS_PER_PHOTO`` fixed crops of each held-out photo, the same for every seed.
    """

    channels = 3
    name = "natural"

    def __init__(
        self, split: str = "train", image_size: int = 32, seed: int = 0, length: int = 1_000_000
    ):
        if split not in ("train", "test"):
            raise ValueError(f"natural split must be 'train' or 'test', got {split!r}")
        if image_size < 8:
            raise ValueError(f"natural crops need image_size >= 8, got {image_size}")
        self.split, self.image_size, self.seed = split, int(image_size), int(seed)
        self.photos = TRAIN_PHOTOS if split == "train" else TEST_PHOTOS
        for name in self.photos:
            load_photo(name)  # fail early, with the message
        #: training crops are already random: the loader need not shuffle them
        self.virtual = split == "train"
        self.length = int(length) if split == "train" else len(self.photos) * TEST_CROPS_PER_PHOTO

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key) -> dict:
        if isinstance(key, tuple):
            i, draw = int(key[0]), int(key[1])
        else:
            i = draw = int(key)
        if self.split == "train":
            rng = np.random.default_rng([self.seed, draw])
            p = int(rng.integers(len(self.photos)))
            crop = _crop(load_photo(self.photos[p]), rng, self.image_size, flip=True)
        else:
            p = i // TEST_CROPS_PER_PHOTO
            rng = np.random.default_rng([_TEST_SEED, i])
            crop = _crop(load_photo(self.photos[p]), rng, self.image_size, flip=False)
        x = torch.from_numpy(np.ascontiguousarray(crop).astype(np.float32)).permute(2, 0, 1)
        return {"image": x / 127.5 - 1.0, "label": p, "skipped": 0}
