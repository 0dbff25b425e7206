"""The tokenizer's side of the codec: its fingerprint, tiles -> tokens, tokens -> tiles.

Shape legend: ``N`` tiles, ``S`` the tokenizer's image side, ``C`` channels, ``s_k`` the
side of scale ``k``.

Decoding runs on the CPU in float32 with one thread and deterministic algorithms
(:func:`deterministic`), in fixed batches, so that the same tokens give the same pixels every
time: ``decompress`` returns exactly what :func:`decode_tiles` returns for the tokens the
encoder produced.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np
import torch

from lattiq.models.tokenizer import Tokenizer
from lattiq.quantizers.base import MultiScaleQuantizerOutput
from lattiq.quantizers.registry import legacy_config

from .container import canonical_json

__all__ = [
    "BATCH",
    "decode_tiles",
    "deterministic",
    "encode_tiles",
    "from_unit",
    "load_tokenizer",
    "scale_sides",
    "to_unit",
    "tokenizer_sha256",
]

#: Tiles per tokenizer call (fixed, so batching never changes a float).
BATCH = 64


@contextlib.contextmanager
def deterministic():
    """CPU, one thread, deterministic algorithms, no autograd; settings restored after."""
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.no_grad(), torch.autocast("cpu", enabled=False):
            yield
    finally:
        torch.use_deterministic_algorithms(det)
        torch.set_num_threads(threads)


def tokenizer_sha256(tokenizer) -> str:
    """SHA-256 of a tokenizer's signature (config, code name and hash) and all its weights.

    Two tokenizers with the same fingerprint map the same tokens to the same pixels; a file
    records it and the decoder refuses a tokenizer whose fingerprint differs.
    """
    sig = tokenizer.signature()
    # the signature as files made before the quantizer registry's names spelled it (types by
    # class name), so that their fingerprints still match
    sig = {**sig, "quantizer": legacy_config(sig.get("quantizer"))}
    h = hashlib.sha256()
    h.update(canonical_json(sig))
    for name, t in sorted(tokenizer.state_dict().items()):
        a = t.detach().cpu().contiguous()
        h.update(canonical_json([name, str(a.dtype), list(a.shape)]))
        h.update(a.view(torch.uint8).numpy().tobytes() if a.numel() else b"")
    return h.hexdigest()


def load_tokenizer(path: str, weights: str = "ema"):
    """A tokenizer from a run or checkpoint directory, in eval mode on the CPU."""
    return Tokenizer.from_checkpoint(str(path), weights=weights, map_location="cpu").eval()


def scale_sides(tokenizer) -> tuple[int, ...]:
    """Side of each scale (one scale, the grid, for a single-scale tokenizer)."""
    sched = getattr(tokenizer.quantizer, "scale_schedule", None)
    return tuple(int(s) for s in sched) if sched is not None else (tokenizer.config.grid,)


def to_unit(tiles: np.ndarray) -> torch.Tensor:
    """uint8 (N, S, S, C) -> float32 (N, C, S, S) in [-1, 1] (``x / 127.5 - 1``)."""
    t = torch.from_numpy(np.ascontiguousarray(tiles)).permute(0, 3, 1, 2).float()
    return t / 127.5 - 1.0


def from_unit(images: torch.Tensor) -> np.ndarray:
    """float (N, C, S, S) in [-1, 1] -> uint8 (N, S, S, C), rounding half up."""
    x = ((images.float().clamp(-1, 1) + 1.0) * 127.5 + 0.5).floor().clamp(0, 255)
    return x.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def encode_tiles(tokenizer, tiles: np.ndarray) -> list[np.ndarray]:
    """uint8 tiles (N, S, S, C) -> token indices, a list over scales of (N, s_k, s_k) int64."""
    cfg = tokenizer.config
    if tiles.ndim != 4 or tiles.shape[1:] != (cfg.image_size, cfg.image_size, cfg.channels):
        raise ValueError(f"tiles must be (N, {cfg.image_size}, {cfg.image_size}, "
                         f"{cfg.channels}), got {tiles.shape}")
    parts: list[list[np.ndarray]] = []
    with deterministic():
        for s in range(0, tiles.shape[0], BATCH):
            out = tokenizer.encode(to_unit(tiles[s : s + BATCH]))
            idx = out.indices if isinstance(out, MultiScaleQuantizerOutput) else [out.indices]
            parts.append([t.cpu().numpy().astype(np.int64) for t in idx])
    return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]


def decode_tiles(tokenizer, tokens: list[np.ndarray]) -> np.ndarray:
    """Token indices (list over scales of (N, s_k, s_k)) -> uint8 tiles (N, S, S, C)."""
    multi = getattr(tokenizer.quantizer, "scale_schedule", None) is not None
    n = tokens[0].shape[0]
    out = []
    with deterministic():
        for s in range(0, n, BATCH):
            idx = [torch.from_numpy(np.ascontiguousarray(t[s : s + BATCH])) for t in tokens]
            images = tokenizer.decode_indices(idx if multi else idx[0])
            out.append(from_unit(images))
    return np.concatenate(out)
