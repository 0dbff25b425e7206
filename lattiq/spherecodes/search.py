"""Exact nearest-codeword search: structured for the registered codes, tiled otherwise.

Every function here takes validated float64 input ``(n, d)`` (see
:meth:`SphericalCode.nearest <lattiq.spherecodes.code.SphericalCode.nearest>`, which checks
shape, dtype and finiteness) and returns int64 indices of the codeword of largest inner
product. Ties go to the lowest index, exactly whenever the scores are computed exactly
(e.g. inputs with few significant bits); for general float input a tie within float64
rounding may go either way, as for any float argmax.

* :func:`leech_nearest`: the 196,560 minimal vectors of the Leech lattice (Adoul & Barth
  1988), by shape: the two largest ``|x_i|`` (shape ``(±4², 0²²)``), the 759 octad sums
  with a parity fix (``(±2⁸, 0¹⁶)``), and the 4096 Golay codeword sign patterns with the
  best special position (``(∓3, ±1²³)``); bounds over the sextet cosets of the Golay code,
  on the input rounded to integers and vectorized across blocks of inputs, leave a few
  candidates, and float64 scores break what the rounding cannot.
* :func:`roots_nearest`: the roots of D_n and E8 (top-2 ``|x_i|``; sign pattern with the
  parity fix).
* :func:`sign_nearest`: binary codes ``{±1/√d}^d``.
* :func:`leech_subset_nearest`: the kissing configurations derived from the Leech shell.
* :func:`fibonacci_nearest`: spherical Fibonacci points on :math:`S^2` by their inverse
  mapping.
* :func:`tiled_nearest`: any codebook, a tiled matmul-argmax that never holds the whole
  ``n × N`` score matrix.

References
----------
J.-P. Adoul and M. Barth, "Nearest neighbor algorithm for spherical codes from the Leech
lattice", IEEE Trans. Inf. Theory 34 (1988) 1188-1202.
J. H. Conway and N. J. A. Sloane, SPLAG, ch. 4 §11 (Leech), ch. 20 (decoding).
B. Keinert, M. Innmann, M. Sänger and M. Stamminger, "Spherical Fibonacci mapping", ACM
Trans. Graph. 34 (2015) 193.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from lattiq.lattices.leech_layout import leech_layout

__all__ = [
    "DEFAULT_TILE_BYTES",
    "fibonacci_nearest",
    "leech_nearest",
    "leech_subset_nearest",
    "roots_nearest",
    "sign_nearest",
    "tiled_nearest",
]

#: Memory budget of one score tile of :func:`tiled_nearest` (bytes): small enough that a tile
#: stays in cache while it is reduced (1.6× faster than 32 MiB tiles for 196,560 codewords in
#: 24 dimensions, see ``benchmarks/bench_tiled_search.py``).
DEFAULT_TILE_BYTES = 4 << 20


# ---------------------------------------------------------------------------- generic


def tiled_nearest(X: np.ndarray, points: np.ndarray,
                  tile_bytes: int = DEFAULT_TILE_BYTES) -> np.ndarray:
    """Exact maximum inner product by tiled matmul-argmax (float64 BLAS).

    .. math:: \\hat k(x) = \\operatorname{arg\\,max}_k \\langle c_k, x \\rangle

    Query rows and codewords are tiled so that no score tile exceeds ``tile_bytes``; a
    running maximum keeps the first index among equal scores, as one argmax over the whole
    matrix would.

    Parameters
    ----------
    X : (n, d) float64
    points : (N, d) float64
    tile_bytes : int
        Memory budget of a score tile.
    """
    n, N = X.shape[0], points.shape[0]
    cells = max(1, int(tile_bytes) // 8)
    cols = min(N, max(1, cells // 64))
    rows = max(1, min(n, cells // cols))
    out = np.empty(n, dtype=np.int64)
    for r0 in range(0, n, rows):
        xr = X[r0:r0 + rows]
        best = np.full(xr.shape[0], -np.inf)
        arg = np.zeros(xr.shape[0], dtype=np.int64)
        for c0 in range(0, N, cols):
            S = xr @ points[c0:c0 + cols].T
            k = np.argmax(S, axis=1)
            v = S[np.arange(S.shape[0]), k]
            better = v > best
            best = np.where(better, v, best)
            arg = np.where(better, k + c0, arg)
        out[r0:r0 + rows] = arg
    return out


# ---------------------------------------------------------------------------- Leech


@lru_cache(maxsize=1)
def _leech_kernel_tables() -> tuple[np.ndarray, ...]:
    """The table arguments of the shell-search kernel (``_kernels_leech``), in its order:
    the fields of :func:`lattiq.lattices.leech_layout.leech_layout` in the kernel's dtypes
    (float32 sign and complement flags, the octad rows' padding as ``−3·10³⁸``)."""
    lay = leech_layout()
    bsel = np.ascontiguousarray(lay.coset_flip.ravel(), dtype=np.float32)  # (6 g + j) 32 + k
    sgn = 1.0 - 2.0 * bsel
    oflip = lay.octad_row_flip.reshape(lay.octad_row_flip.shape[0], -1).astype(np.float32)
    pad = lay.octad_row_ids < 0
    opad = np.where(pad, np.float32(-3e38), np.float32(0.0)).astype(np.float32)
    oct_id = np.where(pad, 0, lay.octad_row_ids)
    # (the word, row and byte tables as writable copies: the kernel's compiled signature)
    return (lay.sextet_cols, lay.coset_pair, lay.coset_parity, sgn, bsel,
            np.array(lay.coset_words), np.array(lay.octad_cosets), np.array(lay.octad_row_ref),
            oflip, opad, oct_id, np.array(lay.codeword_bytes), lay.octads, lay.pair_rank)


@lru_cache(maxsize=1)
def _codeword_signs() -> np.ndarray:
    """(4096, 24) float64 ``1 − 2c`` (the layout's sign table, in the subset kernel's dtype)."""
    return leech_layout().codeword_signs.astype(np.float64)


def leech_nearest(X: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Nearest of the 196,560 Leech codewords (index order of
    :func:`lattiq.lattices.leech.leech_shell1`) for each row of ``X`` (n, 24).

    .. math::
        \\max_{v \\in \\Lambda_{24},\\ v\\cdot v = 32} \\langle v, x\\rangle =
        \\max\\Big(4|x|_{(1)} + 4|x|_{(2)},\\
        \\max_{o} 2\\textstyle\\sum_{o}|x_i| - 4[\\text{odd}]\\min_o|x_i|,\\
        \\max_{c}\\ \\langle s_c, x\\rangle - 4\\min_t s_{c,t} x_t\\Big)

    in the integer frame, where every shape has norm 32 so the scores compare directly.
    Blocks of 64 inputs are screened with the sextet structure of the Golay code (as in the
    Leech decoders, Conway & Sloane ch. 20; Vardy & Be'ery 1993), in SIMD lanes across the
    inputs: on the input rounded to integers ``x̃`` (so every score on ``x̃`` is exact), an
    upper bound over each of the 128 cosets of the sextet subcode (shape C), the 110
    cosets that hold octads (shape B) and shape A; then per input the cosets whose bound
    can still reach the best ``x̃`` score are searched, largest bound first, and only the
    codewords and octads within the rounding slack of the best remain. One survivor is the
    answer; several are scored in float64. The result is the exact float64 argmax of the
    scores above (computed as the previous byte-table kernel did), ties to the lowest index.
    See ``lattiq/spherecodes/_kernels_leech.py`` for the bounds and why nothing reachable is
    skipped.

    Parameters
    ----------
    X : (n, 24) float64, finite
    threads : int, optional
        Worker threads (default: numba's thread count).
    """
    from ._kernels_leech import LANES, leech_nearest_kernel

    n = X.shape[0]
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    nt = numba.get_num_threads() if threads is None else int(threads)
    nt = max(1, min(nt, -(-n // LANES)))
    leech_nearest_kernel(np.ascontiguousarray(X, dtype=np.float64), out, nt,
                         *_leech_kernel_tables(), np.zeros((nt, 2), np.int64))
    return out


# ---------------------------------------------------------------------------- roots, signs


def roots_nearest(X: np.ndarray, half: bool) -> np.ndarray:
    """Nearest root of D_n (``half=False``) or E8 (``half=True``, n = 8).

    Index order: ``±e_i ± e_j`` first, ``4·pair_rank(i, j) + 2[s_i<0] + [s_j<0]`` (pairs
    ``i < j`` in lexicographic rank); for E8 then the 128 vectors ``(±½)^8`` with an even
    number of minus signs, ``112 + r`` where bit ``q`` of ``r`` is the sign of coordinate
    ``q < 7``.

    .. math::
        \\max\\big(|x|_{(1)} + |x|_{(2)},\\ \\tfrac12 (\\textstyle\\sum |x_i| -
        2[\\text{odd}]\\min |x_i|)\\big)

    (SPLAG ch. 20 §2, ch. 4 §8.1.)
    """
    from ._kernels import roots_nearest_kernel

    n, d = X.shape
    out = np.empty(n, dtype=np.int64)
    roots_nearest_kernel(np.ascontiguousarray(X), out, _pair_rank(d), bool(half))
    return out


@lru_cache(maxsize=64)
def _pair_rank(d: int) -> np.ndarray:
    t = -np.ones((d, d), dtype=np.int64)
    r = 0
    for i in range(d):
        for j in range(i + 1, d):
            t[i, j] = t[j, i] = r
            r += 1
    t.setflags(write=False)
    return t


def sign_nearest(X: np.ndarray) -> np.ndarray:
    """Nearest codeword of ``{±1/√d}^d``: index ``Σ_i [x_i < 0] 2^i`` (``x_i = 0`` counts as
    positive, the lower index of the tie).

    .. math:: \\hat c = \\operatorname{sign}(x) / \\sqrt d
    """
    d = X.shape[1]
    bits = (X < 0).astype(np.int64)
    return bits @ (np.int64(1) << np.arange(d, dtype=np.int64))


# ---------------------------------------------------------------------------- Leech subsets


def leech_subset_nearest(X24: np.ndarray, subset) -> np.ndarray:
    """Nearest codeword among a structured subset of the Leech shell (integer frame).

    ``subset`` is a :class:`lattiq.spherecodes.families.LeechSubset` (lists of shape-A
    vectors, octads with fixed positive positions, and Golay codewords with a fixed
    special position). Returns positions in the subset's (Leech-index) order.

    .. math:: \\max_{u \\in S} \\langle u, x \\rangle, \\qquad S \\subset \\Lambda_{24}(2)
    """
    from ._kernels import leech_subset_kernel

    out = np.empty(X24.shape[0], dtype=np.int64)
    lay = leech_layout()
    leech_subset_kernel(np.ascontiguousarray(X24), out, subset.a_pairs, subset.b_octads,
                        subset.b_fixed, lay.octads, subset.c_words, subset.c_special,
                        lay.codeword_bytes, _codeword_signs(), subset.leech_index)
    return out


# ---------------------------------------------------------------------------- Fibonacci


def fibonacci_nearest(X: np.ndarray, n_points: int) -> np.ndarray:
    """Nearest spherical Fibonacci point on :math:`S^2` by the inverse mapping.

    Point ``i`` has :math:`z_i = 1 - (2i+1)/N` and :math:`\\varphi_i = 2\\pi\\{i\\,\\Phi^{-1}\\}`.
    In :math:`(\\varphi/2\\pi, z)` the points are a 2-D lattice (Keinert et al. 2015): a
    reduced basis of it gives a candidate near ``x`` in O(1); then every lattice point in a
    box that certainly contains the cap through that candidate is enumerated and compared,
    so the answer is exact (ties to the lowest index), not just usually right.
    """
    from ._kernels import fibonacci_nearest_kernel

    out = np.empty(X.shape[0], dtype=np.int64)
    fibonacci_nearest_kernel(np.ascontiguousarray(X), out, int(n_points))
    return out
