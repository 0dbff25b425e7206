"""Token cache: a dataset encoded once by a multi-scale tokenizer, kept on disk, reused.

Shape legend: ``N`` images, ``K`` scales, ``h_k = w_k`` the side of scale ``k``, ``d`` the
code dimension, ``C`` channels, ``S`` image side.

The generator trains on token indices, not pixels. Encoding a dataset costs a tokenizer
forward pass per image, so it is done once: :func:`ensure_token_cache` writes
``<cache_dir>/<key>.safetensors`` (``labels`` (N,) int64 and ``scale_<k>`` (N, h_k, w_k)
int32, or int64 for codebooks of more than 2^31 codes) with the tokenizer's contract and
the data recipe in its metadata; the key hashes the tokenizer's weights and the recipe, so
a changed tokenizer or dataset makes a new file and an unchanged one is read back.

The generator meets the tokenizer only through its contract
(:func:`lattiq.models.contract.tokenizer_contract`: the code name, code dimension, codebook
size and scale schedule) and the quantizer's ``next_scale_inputs`` (STYLE.md, item 12).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lattiq.data.fit import load_images
from lattiq.models.contract import tokenizer_contract
from lattiq.models.tokenizer import Tokenizer
from lattiq.progress import progress as progress_bar
from lattiq.runtime.checkpoints import find_checkpoint
from lattiq.runtime.directory import check_writable_dir

__all__ = ["TokenCache", "cache_key", "ensure_token_cache", "load_token_cache"]


@dataclass
class TokenCache:
    """Token indices of a dataset: ``indices[k]`` (N, h_k, w_k) int32 (int64 above 2^31
    codes), ``labels`` (N,)."""

    path: Path
    indices: list[torch.Tensor]
    labels: torch.Tensor
    meta: dict

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batch(self, rows: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Indices (list of (B, h_k, w_k) int64) and labels (B,) of the given rows."""
        return [t[rows].long() for t in self.indices], self.labels[rows]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tokenizer_digest(ckpt_dir: Path, weights: str) -> str:
    f = ckpt_dir / f"{weights}.safetensors"
    if not f.is_file():
        raise FileNotFoundError(f"tokenizer checkpoint {ckpt_dir} has no {weights}.safetensors")
    return _file_digest(f)


def cache_key(recipe: dict) -> str:
    """Short hash of a recipe dict (tokenizer digest, dataset, split, fit, limit)."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def load_token_cache(path: str | os.PathLike) -> TokenCache:
    """Read a cache file written by :func:`ensure_token_cache`."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no token cache at {str(p)!r}")
    with safe_open(str(p), framework="pt") as fh:
        meta = json.loads(fh.metadata()["lattiq_token_cache"])
        labels = fh.get_tensor("labels")
        indices = [fh.get_tensor(f"scale_{k}") for k in range(len(meta["contract"]["scales"]))]
    return TokenCache(p, indices, labels, meta)


@torch.no_grad()
def ensure_token_cache(
    tokenizer_path: str | os.PathLike,
    cache_dir: str | os.PathLike,
    *,
    dataset: str = "fashion-mnist",
    split: str = "train",
    fit: str = "pad",
    root: str | None = None,
    limit: int | None = None,
    weights: str = "ema",
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    tokenizer=None,
    log=None,
    progress: bool = False,
) -> TokenCache:
    """Encode ``dataset``/``split`` with the tokenizer checkpoint once; reuse it afterwards.

    Parameters
    ----------
    tokenizer_path : path
        Tokenizer run directory or checkpoint directory.
    cache_dir : path
        Where ``<key>.safetensors`` goes.
    dataset, split, fit, root, limit
        The data recipe (``limit``: the first N images only).
    weights : {"ema", "model"}
    tokenizer : Tokenizer, optional
        The already-loaded tokenizer of ``tokenizer_path`` (avoids loading it twice).
    log : callable, optional
        Called with progress messages.
    progress : bool
        A bar on stderr over the images being encoded (plain lines when stderr is not a
        terminal).

    Returns
    -------
    TokenCache
    """
    ck = find_checkpoint(tokenizer_path)
    recipe = {"tokenizer": _tokenizer_digest(ck, weights), "weights": weights,
              "dataset": dataset, "split": split, "fit": fit, "limit": limit}
    out = Path(cache_dir) / f"{cache_key(recipe)}.safetensors"
    if out.is_file():
        cache = load_token_cache(out)
        if cache.meta.get("recipe") == recipe:
            if log:
                log(f"token cache: reusing {out} ({len(cache)} images)")
            return cache
    check_writable_dir(out.parent)  # before encoding, not after
    if tokenizer is None:
        tokenizer = Tokenizer.from_checkpoint(str(ck), weights=weights, map_location="cpu")
    tokenizer = tokenizer.to(device).eval()
    contract = tokenizer_contract(tokenizer)
    cfg = tokenizer.config
    data = load_images(dataset, split, cfg.image_size, cfg.channels, fit, root)
    n = len(data) if limit is None else min(int(limit), len(data))
    if n <= 0:
        raise ValueError(f"no images to encode (dataset {dataset!r} split {split!r}, "
                         f"limit {limit})")
    labels = torch.empty(n, dtype=torch.int64)
    # int32 where every index fits (half the size), int64 for codebooks beyond 2^31 (bsq-40)
    dtype = torch.int32 if contract["codebook_size"] <= 2**31 else torch.int64
    idx = [torch.empty(n, h, w, dtype=dtype) for h, w in contract["scales"]]
    if log:
        log(f"token cache: encoding {n} images of {dataset}/{split} -> {out}")
    with progress_bar(n, desc="token cache", unit="images", enabled=progress) as bar:
        for s in range(0, n, batch_size):
            e = min(s + batch_size, n)
            items = [data[i] for i in range(s, e)]
            x = torch.stack([it["image"] for it in items]).to(device)
            labels[s:e] = torch.tensor([it["label"] for it in items])
            q = tokenizer.encode(x)
            for k, t in enumerate(q.indices):
                idx[k][s:e] = t.to("cpu", dtype)
            bar.update(e - s)
    meta = {"recipe": recipe, "contract": contract, "tokenizer_path": str(ck),
            "image_size": cfg.image_size, "channels": cfg.channels, "count": n}
    tensors = {"labels": labels, **{f"scale_{k}": t for k, t in enumerate(idx)}}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    save_file(tensors, str(tmp), metadata={"lattiq_token_cache": json.dumps(meta)})
    os.replace(tmp, out)
    return TokenCache(out, idx, labels, meta)
