"""Factorisations of a codeword index into small digits, for the adaptive context model.

An adaptive model over 196,560 symbols learns nothing from a few thousand tokens; over its
parts it can. A factorisation writes index ``v`` as three digits ``(branch, a, b)``:

.. math:: v = o_j + a\\, m_j + b, \\qquad 0 \\le a < n_j,\\ 0 \\le b < m_j

with branch ``j`` covering indices ``[o_j, o_j + n_j m_j)``. It is a bijection, so any
factorisation codes every index exactly; a good one puts structure into the digits.

* ``leech``: the three shapes of the first Leech shell (SPLAG ch. 4 §11, in the order of
  :mod:`lattiq.lattices.leech`): shape A = (pair of positions: 276) × (signs: 4), shape B =
  (octad: 759) × (even sign pattern: 128), shape C = (Golay codeword: 4,096) × (special
  position: 24).
* ``digits``: ``v = a·m + b`` with ``m = ⌈√K⌉`` (a second branch takes the last, partial
  row); for a binary code of ``2^d`` words this splits the index's bits into high and low
  halves.

:func:`factorisation_for` picks ``leech`` when the quantizer's codebook *is* the Leech
shell in that order (checked on its codewords), ``digits`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

import lattiq.lattices.leech_layout as layout
from lattiq.lattices.leech import leech_shell1

__all__ = ["Factorisation", "factorisation_for", "from_params"]


@dataclass(frozen=True)
class Factorisation:
    """Branches ``(offset, n, m)``; see the module docstring."""

    name: str
    size: int
    branches: tuple[tuple[int, int, int], ...]

    def __post_init__(self):
        end = 0
        for o, n, m in self.branches:
            if o != end or n < 1 or m < 1:
                raise ValueError(f"branches of {self.name!r} do not tile [0, {self.size})")
            end = o + n * m
        if end != self.size:
            raise ValueError(f"branches of {self.name!r} cover {end} indices, not {self.size}")

    def params(self) -> dict:
        return {"name": self.name, "size": self.size}

    def split(self, v: int) -> tuple[int, int, int]:
        """Index -> ``(branch, a, b)``."""
        for j, (o, n, m) in enumerate(self.branches):
            if v < o + n * m:
                a, b = divmod(v - o, m)
                return j, a, b
        raise ValueError(f"index {v} is outside [0, {self.size})")

    def join(self, j: int, a: int, b: int) -> int:
        """``(branch, a, b)`` -> index."""
        o, n, m = self.branches[j]
        return o + a * m + b


def leech_factorisation() -> Factorisation:
    return Factorisation("leech", layout.SHELL_SIZE, (
        (layout.OFFSET_A, layout.N_PAIRS, layout.PAIR_SIGNS),
        (layout.OFFSET_B, layout.N_OCTADS, layout.OCTAD_SIGNS),
        (layout.OFFSET_C, layout.N_CODEWORDS, layout.CODEWORD_SIGNS),
    ))


def digits_factorisation(size: int) -> Factorisation:
    if size < 1:
        raise ValueError(f"codebook size must be positive, got {size}")
    m = max(1, math.isqrt(size - 1) + 1)  # ceil(sqrt(K))
    q, r = divmod(size, m)
    branches = [(0, q, m)]
    if r:
        branches.append((q * m, 1, r))
    return Factorisation("digits", size, tuple(branches))


def from_params(params: dict) -> Factorisation:
    """Rebuild a factorisation from its :meth:`Factorisation.params` (a file header)."""
    if not isinstance(params, dict):
        raise ValueError("factorisation parameters must be an object")
    name, size = params.get("name"), params.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"bad factorisation size {size!r}")
    if name == "leech":
        f = leech_factorisation()
        if f.size != size:
            raise ValueError(f"the leech factorisation has {f.size} indices, not {size}")
        return f
    if name == "digits":
        return digits_factorisation(size)
    raise ValueError(f"unknown factorisation {name!r}")


def _is_leech_ordered(quantizer) -> bool:
    """Whether ``quantizer``'s codewords are the Leech shell in the contract's order."""
    size = layout.SHELL_SIZE
    if int(quantizer.codebook_size) != size or int(quantizer.dim) != 24:
        return False
    rng = np.random.default_rng(0)
    ends = [layout.OFFSET_B, layout.OFFSET_C, size]  # the first and last index of each shape
    probe = np.unique(np.concatenate([[0], ends[:-1], np.array(ends) - 1,
                                      rng.integers(0, size, 256)]))
    try:
        got = quantizer.indices_to_codes(torch.from_numpy(probe)).double().numpy()
    except (TypeError, ValueError, RuntimeError):
        return False
    want = leech_shell1()[probe].astype(np.float64) / math.sqrt(32.0)
    return got.shape == want.shape and bool(np.allclose(got, want, atol=1e-6))


def factorisation_for(tokenizer) -> Factorisation:
    """The factorisation that fits a tokenizer's codebook (see the module docstring)."""
    q = tokenizer.quantizer
    inner = getattr(q, "quantizer", q) if getattr(q, "scale_schedule", None) is not None else q
    if _is_leech_ordered(inner):
        return leech_factorisation()
    return digits_factorisation(int(tokenizer.codebook_size))
