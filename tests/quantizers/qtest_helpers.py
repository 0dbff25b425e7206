"""Helpers for the quantizer tests: small codes built here, independent of the
spherical-code registry, and brute-force oracles."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from lattiq.spherecodes.structure import RootStructure


def e8_roots_int() -> np.ndarray:
    """The 240 roots of E8 in the doubled frame: (±2², 0⁶) and (±1⁸) with even minus signs."""
    rows = []
    for i, j in itertools.combinations(range(8), 2):
        for si, sj in itertools.product((2, -2), repeat=2):
            v = np.zeros(8, np.int64)
            v[i], v[j] = si, sj
            rows.append(v)
    for signs in itertools.product((1, -1), repeat=8):
        if sum(s < 0 for s in signs) % 2 == 0:
            rows.append(np.array(signs, np.int64))
    return np.array(rows)


def d4_roots_int() -> np.ndarray:
    rows = []
    for i, j in itertools.combinations(range(4), 2):
        for si, sj in itertools.product((1, -1), repeat=2):
            v = np.zeros(4, np.int64)
            v[i], v[j] = si, sj
            rows.append(v)
    return np.array(rows)


class FakeCode:
    """Minimal SphericalCode stand-in: name, dim, size, points, int_points, int_scale, and
    with ``roots="e8"`` or ``"d4"`` a root structure (``structure`` is absent otherwise)."""

    def __init__(self, name, int_points, int_scale, perm_seed=None, roots=None):
        ip = np.asarray(int_points)
        if perm_seed is not None:
            ip = ip[np.random.default_rng(perm_seed).permutation(len(ip))]
        self.name = name
        self.int_points = ip
        self.int_scale = float(int_scale)
        self.points = ip * self.int_scale
        self.dim = ip.shape[1]
        self.size = ip.shape[0]
        if roots is not None:
            self.structure = RootStructure(roots, ip, self.int_scale)


def brute_argmax(x: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Untiled matmul-argmax oracle (float64)."""
    return (x.double() @ points.double().T).argmax(dim=1)
