"""Fashion-MNIST: the idx reader against files written here, and the installed dataset."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest
import torch

from lattiq.data import FashionMNIST, get_dataset
from lattiq.data.fashion_mnist import DEFAULT_ROOT, read_idx

HAVE_FMNIST = os.path.isfile(os.path.join(DEFAULT_ROOT, "t10k-images-idx3-ubyte.gz"))


def _write_idx(path, arr: np.ndarray, gz: bool = True):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as fh:
        fh.write(data)


def test_read_idx_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "i.gz", imgs)
    _write_idx(tmp_path / "l", np.arange(5, dtype=np.uint8), gz=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "i.gz"), imgs)
    np.testing.assert_array_equal(read_idx(tmp_path / "l"), np.arange(5))


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x00")
    with pytest.raises(ValueError, match="follow"):
        read_idx(tmp_path / "short")
    (tmp_path / "float").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x00")
    with pytest.raises(ValueError, match="unsigned bytes"):
        read_idx(tmp_path / "float")


def test_dataset_from_a_directory(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(7, dtype=np.uint8))
    ds = FashionMNIST("test", 28, root=str(tmp_path))
    s = ds[3]
    assert s["label"] == 3 and s["skipped"] == 0
    torch.testing.assert_close(s["image"][0], torch.from_numpy(imgs[3] / 127.5 - 1).float())
    assert FashionMNIST("test", 32, root=str(tmp_path))[0]["image"].shape == (1, 32, 32)
    with pytest.raises(FileNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        FashionMNIST("train", root=str(tmp_path))
    with pytest.raises(ValueError, match="split"):
        FashionMNIST("val", root=str(tmp_path))


@pytest.mark.skipif(not HAVE_FMNIST, reason="dataset-fashion-mnist is not installed")
def test_installed_dataset_has_the_published_sizes():
    test = get_dataset("fashion-mnist", "test", 28)
    assert len(test) == 10_000 and test.images.shape == (10_000, 28, 28)
    # Xiao et al. 2017: 10 balanced classes, 1,000 test images each (6,000 train each)
    np.testing.assert_array_equal(np.bincount(test.labels), np.full(10, 1000))
    x = test[0]["image"]
    assert x.shape == (1, 28, 28) and float(x.min()) >= -1 and float(x.max()) <= 1


@pytest.mark.skipif(not HAVE_FMNIST, reason="dataset-fashion-mnist is not installed")
def test_installed_train_split_counts():
    train = get_dataset("fashion-mnist", "train", 28)
    assert len(train) == 60_000
    np.testing.assert_array_equal(np.bincount(train.labels), np.full(10, 6000))
