"""Offline datasets and deterministic loaders.

``get_dataset(name, split, image_size)`` with ``name`` one of:

* ``"fashion-mnist"``: Debian's ``dataset-fashion-mnist`` files (1 channel, 28x28 native);
* ``"natural"``: random crops of the photos bundled in scikit-image and scikit-learn, with a
  held-out set of photos for ``split="test"`` (3 channels);
* ``"folder:PATH"``: an ImageNet-style tree read with Pillow (3 channels).

Every dataset returns ``{"image": (C, S, S) float in [-1, 1], "label": int, "skipped": int}``.
"""

from __future__ import annotations

from torch.utils.data import Dataset

from .fashion_mnist import FashionMNIST
from .folder import ImageFolder
from .loader import StepBatchSampler, make_eval_loader, make_train_loader, match_channels
from .natural import NaturalCrops

__all__ = [
    "DATASETS",
    "FashionMNIST",
    "ImageFolder",
    "NaturalCrops",
    "StepBatchSampler",
    "dataset_channels",
    "get_dataset",
    "make_eval_loader",
    "make_train_loader",
    "match_channels",
]

#: Dataset names (``folder:PATH`` takes a path after the colon).
DATASETS = ("fashion-mnist", "natural", "folder:PATH")


def dataset_channels(name: str) -> int:
    """Image channels of a dataset name, without loading it."""
    if name == "fashion-mnist":
        return 1
    if name == "natural" or name.startswith("folder:"):
        return 3
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def get_dataset(
    name: str,
    split: str,
    image_size: int,
    *,
    seed: int = 0,
    root: str | None = None,
) -> Dataset:
    """A dataset by name: ``"fashion-mnist"``, ``"natural"`` or ``"folder:PATH"``.

    ``split`` is ``"train"`` or ``"test"``; ``seed`` seeds the random crops of training
    splits; ``root`` overrides the Fashion-MNIST directory.
    """
    if not isinstance(image_size, int) or image_size <= 0:
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    if name == "fashion-mnist":
        return FashionMNIST(split, image_size, root=root)
    if name == "natural":
        return NaturalCrops(split, image_size, seed=seed)
    if name.startswith("folder:"):
        path = name[len("folder:") :]
        if not path:
            raise ValueError("folder dataset needs a path: folder:/path/to/images")
        return ImageFolder(path, split, image_size, seed=seed)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
