"""Exact analysis of point sets on the sphere: δ_min, inner products, covering radius.

All-pairs questions are answered exactly without ever holding an ``N × N`` matrix:

* in low dimension (``d <= 6``) a k-d tree (:class:`scipy.spatial.cKDTree`) gives every
  point's nearest neighbour, and the smallest of those distances is δ_min (a million points
  on :math:`S^2` take seconds);
* in higher dimension the points are cut into blocks by a tree of median splits along
  principal directions, and the Gram matrix is computed block pair by block pair with BLAS;
  a block pair is skipped when the spherical caps bounding the two blocks cannot hold a
  pair beating the best inner product found so far (pruning), which is exact because the
  bound is rigorous.

Memory is :math:`O(N d + \\text{tile}^2)`.

Codes with an exact integer form use integer arithmetic (float64 BLAS on integers is exact
below :math:`2^{53}`, which the norms here are far from).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

__all__ = [
    "covering_radius",
    "exact_inner_product_counts",
    "exact_max_inner_product",
    "inner_product_counts",
    "inner_product_histogram",
    "max_inner_product",
    "min_distance",
]

#: Dimension up to which the k-d tree answers all-pairs questions.
KDTREE_MAX_DIM = 6
#: Block size (points) of the tiled all-pairs search.
TILE = 2048
#: Largest code (without an exact form) for the all-pairs inner-product distribution.
MAX_PAIRS_POINTS = 2000


def _as_unit_points(points) -> np.ndarray:
    P = np.ascontiguousarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] < 2 or P.shape[1] < 1:
        raise ValueError(f"need an (N, d) array with N >= 2 points, got shape {P.shape}")
    if not np.isfinite(P).all():
        raise ValueError("points hold NaN or Inf")
    return P


def max_inner_product(points, return_pair: bool = False):
    """Largest inner product between distinct rows, by an exact all-pairs search.

    .. math:: s = \\max_{i \\ne j} \\langle p_i, p_j \\rangle

    For unit vectors the chord distance is :math:`\\sqrt{2 - 2s}`. Low dimension: nearest
    neighbours in a k-d tree; high dimension: tiled Gram blocks with cap pruning (module
    docstring). Exact up to the rounding of one float64 inner product.

    Parameters
    ----------
    points : (N, d) array_like
        Unit vectors, ``N >= 2``.
    return_pair : bool
        Also return the pair ``(i, j)``, ``i < j``.
    """
    P = _as_unit_points(points)
    if P.shape[1] <= KDTREE_MAX_DIM:
        s, i, j = _max_ip_kdtree(P)
    else:
        s, i, j = _max_ip_tiled(P)
    i, j = min(i, j), max(i, j)
    s = math.fsum(P[i] * P[j])  # the winning pair, accurately
    return (s, (i, j)) if return_pair else s


def min_distance(points) -> float:
    """δ_min: smallest chord distance between distinct unit vectors, ``sqrt(2 - 2 s)``.

    .. math:: \\delta_{\\min} = \\min_{i \\ne j} \\lVert p_i - p_j \\rVert
    """
    return math.sqrt(max(0.0, 2.0 - 2.0 * max_inner_product(points)))


def _max_ip_kdtree(P: np.ndarray):
    from scipy.spatial import cKDTree

    tree = cKDTree(P)
    dist, nbr = tree.query(P, k=2, workers=-1)
    # the first neighbour is the point itself (distance 0) unless duplicates tie with it
    d1 = dist[:, 1]
    i = int(np.argmin(d1))
    j = int(nbr[i, 1])
    if j == i:  # pragma: no cover - a duplicate listed first
        j = int(nbr[i, 0])
    return 1.0 - 0.5 * float(d1[i]) ** 2, i, j


def _blocks(P: np.ndarray, tile: int):
    """Spatially coherent blocks of at most ``tile`` points, each with its centre direction
    and angular radius: a binary tree that splits every node at the median along its
    principal direction (a few power iterations)."""
    rng = np.random.default_rng(0)
    blocks = []
    stack = [np.arange(P.shape[0])]
    while stack:
        idx = stack.pop()
        if idx.size <= tile:
            blocks.append(idx)
            continue
        X = P[idx] - P[idx].mean(axis=0)
        v = rng.standard_normal(P.shape[1])
        for _ in range(8):
            v = X.T @ (X @ v)
            nv = np.linalg.norm(v)
            if nv == 0.0:
                break
            v /= nv
        order = np.argsort(X @ v, kind="stable")
        h = idx.size // 2
        stack.extend((idx[order[h:]], idx[order[:h]]))
    centers, radii = [], []
    for b in blocks:
        m = P[b].sum(axis=0)
        nm = np.linalg.norm(m)
        if nm < 1e-12:
            centers.append(np.zeros(P.shape[1]))
            radii.append(math.pi)
            continue
        c = m / nm
        cosang = np.clip(P[b] @ c, -1.0, 1.0)
        centers.append(c)
        radii.append(float(np.arccos(cosang.min())) + 1e-12)
    return blocks, np.array(centers), np.array(radii)


def _max_ip_tiled(P: np.ndarray, tile: int = TILE, stats: dict | None = None):
    blocks, C, R = _blocks(P, tile)
    nb = len(blocks)
    Pb = [np.ascontiguousarray(P[b]) for b in blocks]
    # upper bound on the inner product of any pair in blocks (I, J): the caps' closest approach
    ang = np.arccos(np.clip(C @ C.T, -1.0, 1.0))
    gap = ang - R[:, None] - R[None, :]
    bound = np.where(gap > 0, np.cos(np.minimum(gap, math.pi)), 1.0)
    bound[R[:, None] + R[None, :] >= math.pi] = 1.0
    pairs = [(bound[a, b], a, b) for a in range(nb) for b in range(a, nb)]
    pairs.sort(key=lambda t: -t[0])
    best, bi, bj = -2.0, 0, 1
    done = 0
    for ub, a, b in pairs:
        if ub + 1e-12 < best:
            break  # sorted: every remaining pair is bounded below the best
        done += 1
        G = Pb[a] @ Pb[b].T
        if a == b:
            np.fill_diagonal(G, -np.inf)
        k = int(np.argmax(G))
        v = float(G.flat[k])
        if v > best:
            r, c = divmod(k, G.shape[1])
            best, bi, bj = v, int(blocks[a][r]), int(blocks[b][c])
    if stats is not None:
        stats.update(block_pairs=len(pairs), computed=done)
    return best, bi, bj


# ------------------------------------------------------------------ exact (integer) forms


def exact_max_inner_product(V) -> int:
    """Largest integer inner product ``v_i · v_j`` over distinct rows of an integer array.

    Tiled float64 BLAS on the integers (exact: every partial sum stays below 2^53).
    """
    A = np.asarray(V)
    if A.shape[0] < 2:
        raise ValueError("need at least two vectors")
    big = float(np.abs(A).max()) ** 2 * A.shape[1]
    if big >= 2.0**52:
        raise ValueError("integer vectors too large for exact float64 inner products")
    F = A.astype(np.float64)
    best = -math.inf
    n = F.shape[0]
    for s in range(0, n, TILE):
        G = F[s:s + TILE] @ F.T
        rows = np.arange(G.shape[0])
        G[rows, s + rows] = -math.inf
        best = max(best, float(G.max()))
    return int(round(best))


def exact_inner_product_counts(V, norm: int, point: int | None = None) -> dict:
    """``{Fraction(v_i·v_j, norm): count}`` from row ``point``, or over all ordered pairs."""
    F = np.asarray(V).astype(np.float64)
    counts: dict[int, int] = {}

    def add(vals):
        u, c = np.unique(np.rint(vals).astype(np.int64), return_counts=True)
        for a, b in zip(u.tolist(), c.tolist(), strict=True):
            counts[a] = counts.get(a, 0) + b

    if point is not None:
        add(F @ F[point])
    else:
        for s in range(0, F.shape[0], TILE):
            add(F[s:s + TILE] @ F.T)
    return {Fraction(k, norm): v for k, v in sorted(counts.items(), reverse=True)}


def inner_product_counts(points, point: int | None = None, decimals: int = 12) -> dict:
    """``{inner product: count}`` (rounded to ``decimals``) from one point or over all
    ordered pairs (``N <= 2000``; use :func:`inner_product_histogram` beyond)."""
    P = np.ascontiguousarray(points, dtype=np.float64)
    if point is None and P.shape[0] > MAX_PAIRS_POINTS:
        raise ValueError(
            f"the all-pairs distribution of {P.shape[0]:,} float points has up to "
            f"{P.shape[0] ** 2:,} distinct values; ask for one point (point=i) or a "
            "histogram (inner_product_histogram)"
        )
    vals = P @ P[point] if point is not None else (P @ P.T).ravel()
    u, c = np.unique(np.round(vals, decimals) + 0.0, return_counts=True)
    return {float(a): int(b) for a, b in sorted(zip(u, c, strict=True), reverse=True)}


def inner_product_histogram(points, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Histogram ``(counts, edges)`` on ``[-1, 1]`` of inner products over pairs ``i < j``.

    Tiled: memory ``O(N d + tile²)``.
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    P = _as_unit_points(points)
    edges = np.linspace(-1.0, 1.0, int(bins) + 1)
    counts = np.zeros(int(bins), dtype=np.int64)
    n = P.shape[0]
    for s in range(0, n, TILE):
        G = P[s:s + TILE] @ P[s:].T
        # keep j > i only
        iu = np.arange(G.shape[0])[:, None] < np.arange(G.shape[1])[None, :]
        vals = np.clip(G[iu], -1.0, 1.0)
        counts += np.histogram(vals, bins=edges)[0]
    return counts, edges


def covering_radius(code, n_samples: int = 100_000, seed=0) -> float:
    """Monte Carlo estimate (a lower bound) of the covering radius of a code, in radians.

    .. math:: \\hat\\rho = \\max_{m \\le n} \\min_k \\angle(y_m, c_k), \\qquad
       y_m \\sim \\mathrm{Unif}(S^{d-1})

    Parameters
    ----------
    code : SphericalCode
    n_samples : int
        Number of uniform random points.
    seed : int or numpy.random.Generator
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or \
            n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    worst = 0.0
    chunk = 1 << 15
    left = int(n_samples)
    while left > 0:
        m = min(chunk, left)
        left -= m
        Y = rng.standard_normal((m, code.dim))
        Y /= np.linalg.norm(Y, axis=1, keepdims=True)
        idx = code.nearest(Y)
        c = np.einsum("ij,ij->i", Y, code.vectors(idx))
        worst = max(worst, float(np.arccos(np.clip(c.min(), -1.0, 1.0))))
    return worst
