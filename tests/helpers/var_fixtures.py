"""Shared fixtures of the generator tests: a fake Fashion-MNIST and tiny tokenizer checkpoints.

The fake dataset has the real files' idx format (so the real loader reads it) and images
whose class is visible (a bright bar at a class-dependent row), so that a classifier can
learn it in a few steps.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def fake_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    imgs = rng.integers(0, 40, (n, 28, 28))
    for i, c in enumerate(labels):
        imgs[i, 2 + 2 * c : 4 + 2 * c, 4:24] = 220
    return imgs.astype(np.uint8), labels.astype(np.uint8)


def write_fake_fmnist(root: Path, n_train: int = 64, n_test: int = 32) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for _split, n, seed, (fi, fl) in (
        ("train", n_train, 0, ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")),
        ("test", n_test, 1, ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")),
    ):
        imgs, labels = fake_images(n, seed)
        _write_idx(root / fi, imgs)
        _write_idx(root / fl, labels)
    return root


def make_tokenizer_checkpoint(run_dir: Path, code: str = "leech", scales=(1, 2, 4),
                              seed: int = 0) -> Path:
    """An untrained tiny multi-scale tokenizer (32 px, 1 channel, 4 x 4 grid), saved as a run."""
    import torch

    from lattiq.models.tokenizer import Tokenizer, tokenizer_preset
    from lattiq.runtime.checkpoints import save_checkpoint

    cfg = tokenizer_preset("tiny", image_size=32, patch_size=8, channels=1, width=32, depth=1,
                           heads=2, quantizer={"code": code, "scales": list(scales)})
    torch.manual_seed(seed)
    tok = Tokenizer(cfg)
    sd = tok.state_dict()
    save_checkpoint(run_dir, 0, weights={"model": sd, "ema": sd},
                       config={"config": {}, "signature": tok.signature()})
    return run_dir


def run_torchrun(script_args: list[str], nproc: int = 2, timeout: int = 240):
    """Run ``torch.distributed.run`` on a free local port (one retry if the port was taken
    meanwhile, e.g. by another test run); returns the completed process."""
    import os
    import socket
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    proc = None
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
               f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
               f"--master_port={port}", *script_args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode == 0 or "address already in use" not in proc.stderr.lower():
            return proc
    return proc
