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
def _leech_tables():
    from lattiq.lattices.golay import golay_code
    from lattiq.lattices.leech import pair_rank_table

    G = golay_code()
    pw = 1 << np.arange(24, dtype=np.int64)

    def bytes_of(bits):
        w = bits.astype(np.int64) @ pw
        return np.ascontiguousarray(
            np.stack([(w >> (8 * j)) & 255 for j in range(3)], axis=1).astype(np.uint8))

    cwb = bytes_of(G.codewords)
    om = np.zeros((759, 24), dtype=np.int64)
    for o, pos in enumerate(G.octads):
        om[o, pos] = 1
    ob = bytes_of(np.concatenate([om, om[-1:]]))  # 760 = 95 chunks of 8 octads
    signs = np.ascontiguousarray(1.0 - 2.0 * G.codewords.astype(np.float64))
    octads = np.ascontiguousarray(G.octads, dtype=np.int64)
    pr = np.ascontiguousarray(pair_rank_table(), dtype=np.int64)
    return cwb, ob, signs, octads, pr


@lru_cache(maxsize=1)
def _leech_coset_tables():
    """Sextet tables of :func:`leech_nearest`'s kernel (``_kernels_leech``), from
    ``golay_code()`` and ``leech_sextet_tables()``.

    The 4096 Golay codewords as the 32 words of each of the 128 sextet cosets, and the 759
    octads by coset: six of type ``3·1⁵`` in each coset with odd-weight columns (one column
    shows its weight-3 pattern), eight of type ``2⁴0²`` in each coset with four weight-2
    columns (the other two empty), fifteen unions of two tetrads in the subcode; each octad
    as the row's reference pattern per column, complemented or not. The kernel's bounds
    rely on exactly this structure, so it is checked here (``RuntimeError`` otherwise).
    Returns the kernel's table arguments, in order.
    """
    from lattiq.lattices.decoders import leech_sextet_tables
    from lattiq.lattices.golay import golay_code

    G = golay_code()
    cols, cls_pair, cls_g = leech_sextet_tables()
    cw = G.codewords.astype(np.int64)
    pats = (cw[:, cols] << np.arange(4)).sum(axis=2)  # (4096, 6) column patterns
    word_of = {tuple(p): k for k, p in enumerate(pats.tolist())}
    choices = [[b for b in range(64) if bin(b).count("1") % 2 == g] for g in (0, 1)]
    bsel = np.array([[[(b >> j) & 1 for b in choices[g]] for j in range(6)] for g in (0, 1)],
                    dtype=np.float32).ravel()  # (2 · 6 · 32,), entry (6 g + j) 32 + k
    sgn = np.ascontiguousarray(1.0 - 2.0 * bsel, dtype=np.float32)
    cword = np.empty((128, 32), dtype=np.int64)
    cpat = np.empty((128, 32, 6), dtype=np.int64)
    for c in range(128):
        for k, b in enumerate(choices[cls_g[c]]):
            p = tuple(int(2 * cls_pair[c, j]) ^ (15 if (b >> j) & 1 else 0) for j in range(6))
            if p not in word_of:
                raise RuntimeError("sextet coset word is not a Golay codeword")
            cword[c, k] = word_of[p]
            cpat[c, k] = p
    if sorted(cword.ravel().tolist()) != list(range(4096)):
        raise RuntimeError("sextet cosets do not partition the Golay code")
    octad_of = {tuple(o): i for i, o in enumerate(G.octads.tolist())}
    weight = np.array([bin(2 * q).count("1") for q in range(8)])
    bco, lists = [], []
    zero = None
    for c in range(128):
        octs = [(octad_of[tuple(np.nonzero(cw[k])[0].tolist())], cpat[c, i])
                for i, k in enumerate(cword[c]) if cw[k].sum() == 8]
        if not octs:
            continue
        w = weight[cls_pair[c]]
        if np.all(cls_pair[c] == 0):
            ok = len(octs) == 15
            zero = octs
            continue
        if np.all(w % 2 == 1):  # 3·1⁵: one column takes its weight-3 pattern
            ok = len(octs) == 6 and all(
                sorted(bin(int(t)).count("1") for t in p) == [1, 1, 1, 1, 1, 3] for _, p in octs)
        else:  # 2⁴0²: the weight-2 columns, the empty pair's columns left empty
            ok = (sorted(w.tolist()) == [0, 0, 2, 2, 2, 2] and len(octs) == 8
                  and all(p[j] == 0 for _, p in octs for j in range(6) if w[j] == 0))
        if not ok:
            raise RuntimeError("octads do not have the sextet structure the kernel expects")
        bco.append(c)
        lists.append(octs)
    if zero is None or len(zero) != 15 or len(bco) != 109:
        raise RuntimeError("octads do not have the sextet structure the kernel expects")
    lists.append(zero)
    # per row: a reference pattern per column (the weight-1 one, else the one with row 0
    # clear); each octad shows it or its complement in every column
    oref = np.zeros((110, 6), dtype=np.int64)  # table rows 16 j + reference pattern
    oflip = np.zeros((110, 6, 16), dtype=np.float32)  # 1: octad e complements column j
    opad = np.full((110, 16), -3e38, dtype=np.float32)  # 0 on the row's octads
    oct_id = np.zeros((110, 16), dtype=np.int64)
    for r, octs in enumerate(lists):
        q = cls_pair[bco[r]] if r < 109 else np.zeros(6, dtype=np.int64)
        ref = [1 if qj == 7 else 2 * int(qj) for qj in q]
        oref[r] = 16 * np.arange(6) + np.asarray(ref)
        for e, (o, p) in enumerate(octs):
            if any(int(p[j]) not in (ref[j], ref[j] ^ 15) for j in range(6)):
                raise RuntimeError("octad patterns are not the row's reference or complement")
            oct_id[r, e] = o
            opad[r, e] = 0.0
            oflip[r, :, e] = [float(int(p[j]) != ref[j]) for j in range(6)]
    if sorted(oct_id[opad == 0.0].tolist()) != list(range(759)):
        raise RuntimeError("octads are not split among the sextet cosets")
    out = (cols, cls_pair, cls_g, sgn, bsel, cword, np.array(bco, dtype=np.int64), oref,
           oflip.reshape(110, 96), opad, oct_id)
    return tuple(np.ascontiguousarray(a) for a in out)


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
    cwb, _, _, octads, pr = _leech_tables()
    leech_nearest_kernel(np.ascontiguousarray(X, dtype=np.float64), out, nt,
                         *_leech_coset_tables(), cwb, octads, pr, np.zeros((nt, 2), np.int64))
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
    cwb, ob, signs, octads, pr = _leech_tables()
    leech_subset_kernel(np.ascontiguousarray(X24), out, subset.a_pairs, subset.b_octads,
                        subset.b_fixed, octads, subset.c_words, subset.c_special, cwb,
                        signs, subset.leech_index)
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
