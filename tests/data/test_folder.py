"""ImageNet-style folders: classes, splits, crops; corrupt files skipped and counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from lattiq.data import ImageFolder, get_dataset, make_train_loader


def _tree(root, corrupt: bool = True):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            d = root / split / cls
            d.mkdir(parents=True)
            for k in range(3):
                arr = rng.integers(0, 256, (20 + 4 * k, 30, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{k}.png")
    if corrupt:
        (root / "train" / "cat" / "1b_corrupt.jpg").write_bytes(b"not an image at all")
        good = (root / "train" / "dog" / "0.png").read_bytes()
        (root / "train" / "dog" / "0b_truncated.png").write_bytes(good[: len(good) // 3])
    return root


def test_classes_splits_and_center_crop(tmp_path):
    root = _tree(tmp_path, corrupt=False)
    val = ImageFolder(root, "test", 16)
    assert val.root.name == "val" and val.classes == ["cat", "dog"] and len(val) == 6
    s = val[0]
    assert s["image"].shape == (3, 16, 16) and s["label"] == 0 and s["skipped"] == 0
    torch.testing.assert_close(val[2]["image"], val[2]["image"], rtol=0, atol=0)
    # centre crop of the short-side-resized image
    with Image.open(val.files[0]) as im:
        w, h = im.size  # 30 x 20: the short side is the height
        im = im.convert("RGB").resize((round(w * 16 / h), 16), Image.Resampling.BICUBIC,
                                      reducing_gap=None)  # fmt: skip
        arr = np.asarray(im)
    x0 = (arr.shape[1] - 16) // 2
    want = torch.from_numpy(arr[:, x0 : x0 + 16].astype(np.float32)).permute(2, 0, 1) / 127.5 - 1
    torch.testing.assert_close(s["image"], want)
    gray = ImageFolder(root, "train", 8, channels=1)
    assert gray[0]["image"].shape == (1, 8, 8)


def test_corrupt_files_are_skipped_and_counted(tmp_path, capsys):
    root = _tree(tmp_path)
    ds = get_dataset(f"folder:{root}", "train", 16, seed=1)
    assert len(ds) == 8
    names = [p.name for p in ds.files]
    bad = [names.index("1b_corrupt.jpg"), names.index("0b_truncated.png")]
    total = 0
    for i in range(len(ds)):
        s = ds[i]
        assert s["image"].shape == (3, 16, 16) and torch.isfinite(s["image"]).all()
        total += s["skipped"]
    assert total == 2 and all(ds[i]["skipped"] == 1 for i in bad)
    assert "skipping unreadable image" in capsys.readouterr().err
    # a whole epoch through the loader: no crash, skips reported in the batches
    loader = make_train_loader(ds, 4, seed=0, steps=2)
    assert sum(int(b["skipped"].sum()) for b in loader) == 2


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_dataset(f"folder:{tmp_path / 'none'}", "train", 16)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        get_dataset(f"folder:{tmp_path / 'empty'}", "train", 16)
    with pytest.raises(ValueError, match="needs a path"):
        get_dataset("folder:", "train", 16)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"junk")
    with pytest.raises(ValueError, match="no readable image"):
        ImageFolder(tmp_path / "bad", "train", 8)[0]
