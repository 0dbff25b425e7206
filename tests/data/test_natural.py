"""Natural-photo crops: deterministic from the seed, held-out photos for evaluation."""

from __future__ import annotations

import pytest
import torch

from lattiq.data import NaturalCrops, get_dataset
from lattiq.data.natural import TEST_CROPS_PER_PHOTO, TEST_PHOTOS, TRAIN_PHOTOS, load_photo


def test_held_out_photos_are_disjoint():
    assert not set(TRAIN_PHOTOS) & set(TEST_PHOTOS)
    assert "skimage:motorcycle_right.png" not in TRAIN_PHOTOS + TEST_PHOTOS
    for name in TRAIN_PHOTOS + TEST_PHOTOS:
        p = load_photo(name)
        assert p.ndim == 3 and p.shape[2] == 3 and min(p.shape[:2]) >= 128


def test_train_crops_are_deterministic_from_seed_and_draw():
    a = NaturalCrops("train", 16, seed=3)
    b = NaturalCrops("train", 16, seed=3)
    c = NaturalCrops("train", 16, seed=4)
    for k in (0, 1, 12345):
        torch.testing.assert_close(a[k]["image"], b[k]["image"], rtol=0, atol=0)
    assert not torch.equal(a[5]["image"], c[5]["image"])
    # the draw number, not the position, picks the crop
    torch.testing.assert_close(a[(0, 7)]["image"], a[7]["image"], rtol=0, atol=0)
    x = a[0]["image"]
    assert x.shape == (3, 16, 16) and float(x.min()) >= -1 and float(x.max()) <= 1
    assert a.virtual and len(a) == 1_000_000


def test_test_crops_are_fixed_and_seed_independent():
    t1 = get_dataset("natural", "test", 24, seed=0)
    t2 = get_dataset("natural", "test", 24, seed=9)
    assert len(t1) == len(TEST_PHOTOS) * TEST_CROPS_PER_PHOTO and not t1.virtual
    for k in (0, 70, len(t1) - 1):
        torch.testing.assert_close(t1[k]["image"], t2[k]["image"], rtol=0, atol=0)
    assert t1[TEST_CROPS_PER_PHOTO]["label"] == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        NaturalCrops("val")
    with pytest.raises(ValueError, match="image_size"):
        NaturalCrops("train", 4)
    with pytest.raises(ValueError, match="unknown dataset"):
        get_dataset("cifar", "train", 32)
    with pytest.raises(ValueError, match="positive integer"):
        get_dataset("natural", "train", 0)
