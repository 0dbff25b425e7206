"""A dataset brought to a model's image size and channel count: padded or resized.

Shape legend: ``C`` channels, ``S`` image side.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lattiq.data import get_dataset, match_channels

__all__ = ["FITS", "load_images"]

#: How dataset images are brought to the tokenizer's size: zero-pad (background -1) or resize.
FITS = ("pad", "resize")
_NATIVE = {"fashion-mnist": 28}


def load_images(dataset: str, split: str, size: int, channels: int, fit: str = "pad",
                root: str | None = None):
    """The dataset brought to ``(C, size, size)`` in ``[-1, 1]``, as a map-style dataset.

    ``fit="pad"`` keeps the native resolution and pads with the background value -1
    (Fashion-MNIST 28 -> 32 pads 2 pixels a side); ``"resize"`` resamples.
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    if fit == "pad":
        native = _NATIVE.get(dataset)
        if native is None:
            raise ValueError(f"fit='pad' needs a dataset of fixed native size "
                             f"({sorted(_NATIVE)}); use fit='resize' for {dataset!r}")
        if size < native or (size - native) % 2:
            raise ValueError(f"cannot pad {native}px images to {size}px (needs an even "
                             f"difference >= 0); use fit='resize'")
        base = get_dataset(dataset, split, native, root=root)
    else:
        base = get_dataset(dataset, split, size, root=root)
    pad = (size - _NATIVE.get(dataset, size)) // 2 if fit == "pad" else 0

    class _Fit(torch.utils.data.Dataset):
        def __len__(self):
            return len(base)

        def __getitem__(self, key):
            item = base[key]
            x = match_channels(item["image"][None], channels)[0]
            if pad:
                x = F.pad(x, (pad, pad, pad, pad), value=-1.0)
            return {"image": x, "label": item["label"]}

    return _Fit()
