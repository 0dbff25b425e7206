"""Fixtures of the codec tests: tokenizers and generators trained for a few steps here, test
images (synthetic and bundled photos), and a fake Fashion-MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import var_fixtures as vf

TINY_TOKENIZER = [
    "--set", "model.image_size=16", "--set", "model.patch_size=4", "--set", "model.width=32",
    "--set", "model.depth=1", "--set", "model.heads=2", "--set", "batch_size=4",
    "--set", "steps=3", "--set", "log_every=1", "--set", "image_every=100",
    "--set", "ckpt_every=3", "--set", "device=cpu", "--no-progress",
]  # fmt: skip


def train_tokenizer(out: Path, *extra: str) -> Path:
    from lattiq.training.train_tokenizer import main

    assert main([*TINY_TOKENIZER, *extra, "--out", str(out)]) == 0
    return out


def train_var(out: Path, tokenizer: Path, fmnist: Path, head: str) -> Path:
    from lattiq.training.train_var import main

    args = ["--tokenizer", str(tokenizer), "--match-tokenizer", "--out", str(out),
            "--no-progress", "--set", f"data.root={fmnist}", "--set", "data.fit=resize",
            "--set", "batch_size=4", "--set", "steps=3", "--set", "sample_every=0",
            "--set", "log_every=1", "--set", f"model.head={head}", "--set", "device=cpu",
            "--set", "model.width=32", "--set", "model.heads=2", "--set", "model.depth=1"]
    assert main(args) == 0
    return out


@pytest.fixture(scope="session")
def codec_env(tmp_path_factory):
    """Trained tiny runs, built on first use and shared by the session."""
    root = tmp_path_factory.mktemp("codec")
    fm = vf.write_fake_fmnist(root / "fmnist", n_train=64, n_test=16)
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name in made:
            return made[name]
        if name == "leech-rgb":  # single scale, 3 channels, natural photos
            p = train_tokenizer(root / name, "--set", "data.name=natural")
        elif name == "leech-rgb-seed1":  # the same architecture, other weights
            p = train_tokenizer(root / name, "--set", "data.name=natural", "--set", "seed=1")
        elif name == "bsq-gray":  # single scale BSQ, 1 channel
            p = train_tokenizer(root / name, "--set", "data.name=fashion-mnist",
                                "--set", f"data.root={fm}", "--set", "model.channels=1",
                                "--set", "model.quantizer.code=bsq-10",
                                "--set", "model.quantizer.kind=bsq")
        elif name == "leech-ms":  # multi-scale Leech, 1 channel (for the generator)
            p = train_tokenizer(root / name, "--set", "data.name=fashion-mnist",
                                "--set", f"data.root={fm}", "--set", "model.channels=1",
                                "--set", "model.quantizer.scales=[1, 2, 4]")
        elif name == "bsq-ms":
            p = train_tokenizer(root / name, "--set", "data.name=fashion-mnist",
                                "--set", f"data.root={fm}", "--set", "model.channels=1",
                                "--set", "model.quantizer.code=bsq-8",
                                "--set", "model.quantizer.kind=bsq",
                                "--set", "model.quantizer.scales=[1, 2, 4]")
        elif name.startswith("var-"):  # var-<head>
            head = name[4:]
            tok = get("bsq-ms" if head == "bits" else "leech-ms")
            p = train_var(root / name, tok, fm, head)
        else:
            raise KeyError(name)
        made[name] = p
        return p

    return {"root": root, "fmnist": fm, "get": get}


def synthetic_images() -> dict[str, np.ndarray]:
    """uint8 (H, W, 3) images of awkward sizes and content."""
    rng = np.random.default_rng(20260116)
    yy, xx = np.mgrid[0:37, 0:53]
    grad = np.stack([xx * 4, yy * 6, (xx + yy) * 2], -1).clip(0, 255).astype(np.uint8)
    checker = (((yy // 4 + xx // 4) % 2) * 255).astype(np.uint8)
    return {
        "1x1": np.array([[[200, 10, 30]]], np.uint8),
        "flat-16x16": np.full((16, 16, 3), 77, np.uint8),
        "gradient-37x53": grad,
        "checker-37x53": np.repeat(checker[:, :, None], 3, axis=2),
        "noise-20x9": rng.integers(0, 256, (20, 9, 3)).astype(np.uint8),
        "tall-70x16": rng.integers(0, 256, (70, 16, 3)).astype(np.uint8),
    }


def photo_images() -> dict[str, np.ndarray]:
    """Crops of bundled photos (scikit-image), kept small so the tests stay quick."""
    from lattiq.data.natural import load_photo

    out = {}
    for name, (y, x, h, w) in {"skimage:astronaut.png": (40, 150, 48, 64),
                               "skimage:coffee.png": (100, 200, 40, 40),
                               "skimage:chelsea.png": (50, 100, 33, 47)}.items():  # fmt: skip
        out[name.split(":")[1]] = np.ascontiguousarray(load_photo(name)[y : y + h, x : x + w])
    return out


def to_gray(a: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(a).convert("L"))[:, :, None]
