"""Where the tokens of a tiled image sit: scales, tiles, and the mosaic of each scale.

Shape legend: ``N`` tiles, ``R, Q`` tile rows and columns (``N = R·Q``, row-major),
``s_k`` the side of scale ``k`` (a single-scale tokenizer has one scale, its grid).

The tokens of an image are a list over scales of int64 arrays ``(N, s_k, s_k)``. Models
that look at neighbours see each scale as one mosaic ``(R·s_k, Q·s_k)`` in which the tiles
sit where they sit in the image, so a token's left and upper neighbours may lie in the
adjacent tile.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["TokenLayout", "tokens_crc32"]


@dataclass(frozen=True)
class TokenLayout:
    """Scales (sides, coarse to fine), the tile grid and the codebook size."""

    scales: tuple[int, ...]
    rows: int
    cols: int
    codebook_size: int

    @property
    def tiles(self) -> int:
        return self.rows * self.cols

    @property
    def count(self) -> int:
        """Tokens in all."""
        return self.tiles * sum(s * s for s in self.scales)

    def check(self, tokens: list[np.ndarray]) -> list[np.ndarray]:
        """Validate tokens against the layout; returns them as int64 arrays."""
        if len(tokens) != len(self.scales):
            raise ValueError(f"expected {len(self.scales)} scales of tokens, got {len(tokens)}")
        out = []
        for k, (t, s) in enumerate(zip(tokens, self.scales, strict=True)):
            a = np.asarray(t)
            if a.shape != (self.tiles, s, s):
                raise ValueError(f"scale {k} tokens must be {(self.tiles, s, s)}, got {a.shape}")
            if a.dtype.kind not in "iu":
                raise TypeError(f"tokens must be integers, got {a.dtype}")
            if a.size and (a.min() < 0 or a.max() >= self.codebook_size):
                raise ValueError(f"token indices must be in [0, {self.codebook_size})")
            out.append(a.astype(np.int64))
        return out

    def to_mosaic(self, tokens_k: np.ndarray) -> np.ndarray:
        """(N, s, s) -> (R·s, Q·s)."""
        n, s, _ = tokens_k.shape
        return tokens_k.reshape(self.rows, self.cols, s, s).transpose(0, 2, 1, 3).reshape(
            self.rows * s, self.cols * s)

    def from_mosaic(self, mosaic: np.ndarray, s: int) -> np.ndarray:
        """(R·s, Q·s) -> (N, s, s)."""
        return np.ascontiguousarray(mosaic.reshape(self.rows, s, self.cols, s)
                                    .transpose(0, 2, 1, 3).reshape(self.tiles, s, s))


def tokens_crc32(tokens: list[np.ndarray]) -> int:
    """CRC-32 of the tokens (little-endian int64, scale by scale): the decoder's last check."""
    crc = 0
    for t in tokens:
        crc = zlib.crc32(np.ascontiguousarray(t, dtype="<i8").tobytes(), crc)
    return crc
