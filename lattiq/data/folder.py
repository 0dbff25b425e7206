"""An ImageNet-style folder of images (``root/<class>/<image>``), read with Pillow.

If ``root`` holds a ``train`` (and ``val`` or ``test``) subfolder, the split picks it;
otherwise the whole tree is used for both splits. Classes are the first-level folder names,
sorted. Unreadable or corrupt files are skipped and counted, never a crash mid-epoch: the
sample's ``skipped`` field says how many files were passed over to produce it, and the
training loop sums and logs them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

__all__ = ["IMAGE_EXTENSIONS", "ImageFolder"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
_SPLIT_DIRS = {"train": ("train",), "test": ("val", "test", "validation")}


class ImageFolder(Dataset):
    """Images of a folder tree as (C, S, S) float tensors in ``[-1, 1]``.

    Each image is resized so its short side is ``image_size`` (bicubic, antialiased), then
    cropped square: at random with a random horizontal flip for ``train`` (drawn from a
    generator seeded by ``(seed, draw)``), at the centre for ``test``.
    """

    name = "folder"

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        image_size: int = 64,
        seed: int = 0,
        channels: int = 3,
    ):
        if split not in _SPLIT_DIRS:
            raise ValueError(f"folder split must be 'train' or 'test', got {split!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        base = Path(root)
        if not base.is_dir():
            raise FileNotFoundError(f"image folder {str(base)!r} does not exist")
        for sub in _SPLIT_DIRS[split]:
            if (base / sub).is_dir():
                base = base / sub
                break
        self.root, self.split = base, split
        self.image_size, self.seed, self.channels = int(image_size), int(seed), int(channels)
        files = sorted(
            p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {str(base)!r}")
        self.files = files
        classes = sorted(
            {p.relative_to(base).parts[0] for p in files if len(p.relative_to(base).parts) > 1}
        )
        self.classes = classes
        index = {c: k for k, c in enumerate(classes)}
        self.labels = [
            index.get(p.relative_to(base).parts[0], -1)
            if len(p.relative_to(base).parts) > 1
            else -1
            for p in files
        ]
        self._warned: set[int] = set()

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, i: int, rng: np.random.Generator | None) -> np.ndarray:
        s = self.image_size
        with Image.open(self.files[i]) as im:
            im = im.convert("RGB" if self.channels == 3 else "L")
            w, h = im.size
            scale = s / min(w, h)
            nw, nh = max(s, round(w * scale)), max(s, round(h * scale))
            im = im.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=None)
            arr = np.asarray(im)
        if rng is None:
            y, x = (nh - s) // 2, (nw - s) // 2
        else:
            y, x = int(rng.integers(0, nh - s + 1)), int(rng.integers(0, nw - s + 1))
        arr = arr[y : y + s, x : x + s]
        if rng is not None and rng.random() < 0.5:
            arr = arr[:, ::-1]
        return arr

    def __getitem__(self, key) -> dict:
        if isinstance(key, tuple):
            i, draw = int(key[0]), int(key[1])
        else:
            i = draw = int(key)
        skipped = 0
        for _ in range(len(self.files)):
            rng = np.random.default_rng([self.seed, draw]) if self.split == "train" else None
            try:
                arr = self._read(i, rng)
                break
            except (OSError, ValueError, SyntaxError) as e:  # PIL's errors for corrupt files
                if i not in self._warned:
                    self._warned.add(i)
                    print(
                        f"warning: skipping unreadable image {self.files[i]}: {e}", file=sys.stderr
                    )
                skipped += 1
                i = (i + 1) % len(self.files)
        else:
            raise ValueError(f"no readable image under {str(self.root)!r}")
        arr = np.ascontiguousarray(arr).astype(np.float32)
        x = torch.from_numpy(arr)
        x = x[None] if x.ndim == 2 else x.permute(2, 0, 1)
        return {"image": x / 127.5 - 1.0, "label": self.labels[i], "skipped": skipped}
