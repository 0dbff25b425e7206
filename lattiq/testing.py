"""Hypothesis strategies for property tests of lattices and spherical codes.

These are the strategies lattiq's own test suite uses; they need ``hypothesis`` (the ``dev``
extra). Example — a property test of your own decoder against lattiq's::

    from hypothesis import given
    from lattiq.lattices import get_lattice
    from lattiq.testing import near_voronoi_faces

    E8 = get_lattice("e8")

    @given(near_voronoi_faces(E8))
    def test_my_decoder_picks_the_right_side(case):
        x, expected = case  # x lies just inside the Voronoi cell of `expected`
        assert (my_decoder(x) == expected).all()

Every strategy draws exact data: lattice points are integer combinations of the basis (in
standard coordinates, float64, exact where the scale is a power of two), bases are integer
matrices with a prescribed nonzero determinant.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .lattices import Lattice

__all__ = [
    "lattice_names",
    "lattice_coefficients",
    "lattice_points",
    "near_voronoi_faces",
    "random_bases",
    "random_codes",
]

#: Built-in lattices small enough for fast property tests.
FAST_LATTICES = ("z1", "z3", "d3", "d4", "a2", "a3", "e8", "leech")


def lattice_names(names=FAST_LATTICES) -> st.SearchStrategy[str]:
    """Names of built-in lattices."""
    return st.sampled_from(list(names))


def lattice_coefficients(L: Lattice, max_coeff: int = 5) -> st.SearchStrategy[np.ndarray]:
    """Integer coefficient vectors ``u`` (``(dim,)`` int64) with ``|u_i| <= max_coeff``."""
    return st.lists(st.integers(-max_coeff, max_coeff), min_size=L.dim, max_size=L.dim).map(
        lambda v: np.array(v, dtype=np.int64)
    )


def lattice_points(L: Lattice, max_coeff: int = 5) -> st.SearchStrategy[np.ndarray]:
    """Lattice points in standard coordinates, ``(ambient_dim,)`` float64, from integer
    combinations of the basis."""
    if L.basis_int is not None:
        return lattice_coefficients(L, max_coeff).map(
            lambda u: (u @ L.basis_int).astype(np.float64) * L.scale_float
        )
    return lattice_coefficients(L, max_coeff).map(lambda u: u.astype(np.float64) @ L.basis)


def near_voronoi_faces(
    L: Lattice, max_coeff: int = 3, eps: float = 1e-6
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(x, p)`` with ``x`` just inside the Voronoi cell of lattice point ``p``
    (standard coordinates), next to the face shared with ``p + v`` for a minimal vector ``v``.

    .. math:: x = p + (\\tfrac12 - \\varepsilon) v + t, \\qquad t \\perp v,\\ \\lVert t\\rVert
       \\le \\varepsilon

    For a minimal vector ``v`` the midpoint ``v/2`` is strictly closer to ``0`` and ``v``
    than to any other lattice point, so such ``x`` has the unique nearest point ``p``.
    """
    shell = L.shell(1)
    if L.basis_int is not None:
        mins = shell.astype(np.float64) * L.scale_float
    else:
        mins = shell.astype(np.float64) @ L.basis
    span = L.span_basis()

    @st.composite
    def _draw(draw):
        p = draw(lattice_points(L, max_coeff))
        v = mins[draw(st.integers(0, len(mins) - 1))]
        raw = np.array(draw(st.lists(st.floats(-1, 1), min_size=len(v), max_size=len(v))))
        t = raw - (raw @ v) / (v @ v) * v
        if span is not None:  # stay in the lattice's span (An, E6, E7, K12)
            t = span @ (span.T @ t)
            t -= (t @ v) / (v @ v) * v
        nt = np.linalg.norm(t)
        if nt > 0:
            t *= eps * np.sqrt(v @ v) / nt * 0.5
        x = p + (0.5 - eps) * v + t
        return x, p

    return _draw()


def random_bases(
    dim: int, max_entry: int = 4, min_abs_det: int = 1
) -> st.SearchStrategy[np.ndarray]:
    """Integer ``(dim, dim)`` bases with ``|det| >= min_abs_det`` (rows = basis vectors)."""
    mats = st.lists(
        st.integers(-max_entry, max_entry), min_size=dim * dim, max_size=dim * dim
    ).map(lambda v: np.array(v, dtype=np.int64).reshape(dim, dim))
    return mats.filter(lambda B: abs(round(np.linalg.det(B))) >= min_abs_det)


def random_codes(
    dim: int, min_size: int = 2, max_size: int = 64
) -> st.SearchStrategy[np.ndarray]:
    """Point sets on ``S^{dim-1}``: ``(N, dim)`` float64 unit rows from seeded Gaussians,
    distinct with probability one."""

    def make(args):
        n, seed = args
        X = np.random.default_rng(seed).standard_normal((n, dim))
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    return st.tuples(st.integers(min_size, max_size), st.integers(0, 2**32 - 1)).map(make)

