"""Fashion-MNIST from the files of Debian's ``dataset-fashion-mnist`` package.

The package installs the four idx files of Xiao, Rasul & Vollgraf, "Fashion-MNIST: a Novel
Image Dataset for Benchmarking Machine Learning Algorithms" (2017), gzipped, under
``/usr/share/datasets/fashion-mnist/``: 60,000 training and 10,000 test images, 28x28
grayscale, 10 classes. The idx format (LeCun et al.'s MNIST format) is a big-endian header
(magic ``0x00000803`` for uint8 images of rank 3, ``0x00000801`` for labels) followed by the
raw bytes.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

__all__ = ["DEFAULT_ROOT", "FashionMNIST", "read_idx"]

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (possibly gzipped) idx file of unsigned bytes into an array of its shape."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{p} is not an idx file (bad magic number)")
    if data[2] != 0x08:
        raise ValueError(f"{p}: idx data type {data[2]:#04x} is not unsigned bytes (0x08)")
    rank = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    offset = 4 + 4 * rank
    n = int(np.prod(dims)) if dims else 0
    if len(data) - offset != n:
        raise ValueError(f"{p}: header says {dims} ({n} bytes) but {len(data) - offset} follow")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


@lru_cache(maxsize=4)
def _load(root: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lab_name = _FILES[split]
    images, labels = read_idx(Path(root) / img_name), read_idx(Path(root) / lab_name)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"Fashion-MNIST files under {root} have inconsistent shapes")
    return images, labels


class FashionMNIST(Dataset):
    """Fashion-MNIST images as (1, S, S) float tensors in ``[-1, 1]`` with their labels.

    Parameters
    ----------
    split : {"train", "test"}
    image_size : int
        28 keeps the images as they are; any other size resizes them (bilinear, antialiased).
    root : str, optional
        Directory holding the idx files; default the Debian package's
        ``/usr/share/datasets/fashion-mnist`` (or ``$LATTIQ_FASHION_MNIST``).
    """

    channels = 1
    name = "fashion-mnist"

    def __init__(self, split: str = "train", image_size: int = 28, root: str | None = None):
        if split not in _FILES:
            raise ValueError(f"Fashion-MNIST split must be 'train' or 'test', got {split!r}")
        root = root or os.environ.get("LATTIQ_FASHION_MNIST", DEFAULT_ROOT)
        missing = [f for f in _FILES[split] if not (Path(root) / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"Fashion-MNIST files {missing} not found under {root!r}. Install Debian's "
                "package (`apt-get install -y dataset-fashion-mnist`) or point root= / "
                "$LATTIQ_FASHION_MNIST at a directory holding the four idx .gz files."
            )
        self.split, self.image_size, self.root = split, int(image_size), str(root)
        self.images, self.labels = _load(self.root, split)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key) -> dict:
        i = key[0] if isinstance(key, tuple) else int(key)
        x = torch.from_numpy(self.images[i].astype(np.float32))[None] / 127.5 - 1.0  # (1, 28, 28)
        if self.image_size != x.shape[-1]:
            s = self.image_size
            x = F.interpolate(x[None], size=(s, s), mode="bilinear", antialias=True)[0]
            x = x.clamp(-1.0, 1.0)
        return {"image": x, "label": int(self.labels[i]), "skipped": 0}
