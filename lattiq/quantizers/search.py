"""Exact nearest-codeword search in torch, on any device, in bounded memory.

Shape legend: ``n`` tokens (rows of the input), ``d`` dimension, ``K`` codebook size,
``c`` tokens per chunk. Inputs are ``(n, d)`` float32/float64; every search returns
``(n,)`` int64 indices of the codeword with the largest inner product. The input need not be
normalized: the codewords of each code share one norm, so the largest inner product is the
nearest codeword of the normalized input.

Conventions shared by all searches:

* a zero row returns index 0 (every codeword is equally near; the choice is deterministic);
* a row holding NaN or Inf returns ``-1``;
* ties between exactly equal scores go to some tied codeword (the smallest index for the
  tiled search).

The searches never hold ``n × K`` scores: the tiled search walks token tiles and codebook
tiles sized from a memory budget, and the structured searches process token chunks whose
size follows from the same budget.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

import lattiq.lattices.leech_layout as layout

__all__ = [
    "CPU_CACHE_TILE",
    "DEFAULT_MEMORY_BUDGET",
    "LeechSearch",
    "LeechSubsetSearch",
    "RootSearch",
    "SignSearch",
    "TiledSearch",
    "leech_nearest_numba",
    "tiled_nearest",
]

DEFAULT_MEMORY_BUDGET = 64 * 2**20
#: score-tile cap of the CPU tiled search: a tile this size stays in cache while it is reduced
CPU_CACHE_TILE = 4 * 2**20
#: tokens per tile when the codebook itself must be tiled
_TOKEN_TILE = 256


def _finalize(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Apply the zero-row and non-finite-row conventions."""
    finite = torch.isfinite(x).all(dim=1)
    zero = (x == 0).all(dim=1)
    idx = torch.where(zero, torch.zeros_like(idx), idx)
    return torch.where(finite, idx, torch.full_like(idx, -1))


def _chunks(n: int, per_token_bytes: int, budget: int) -> int:
    return max(1, min(n, budget // max(1, per_token_bytes)))


def tiled_nearest(
    x: torch.Tensor,
    codebook: torch.Tensor,
    memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
    cache_tile_bytes: int | None = None,
) -> torch.Tensor:
    """Exact maximum-inner-product search by tiled matmul-argmax.

    .. math:: \\hat k(x) = \\operatorname{arg\\,max}_{k} \\langle x, c_k \\rangle

    Tokens and, when one token's scores alone exceed the tile, codewords are tiled so that
    no score tile holds more than ``memory_budget_bytes``; a running maximum keeps the first
    index among equal scores, as ``argmax`` over the full matrix would.

    Parameters
    ----------
    x : Tensor (n, d)
        Queries (float32 or float64).
    codebook : Tensor (K, d)
        Codewords of equal norm, same dtype and device as ``x``.
    memory_budget_bytes : int
        Upper bound on the score tile.
    cache_tile_bytes : int, optional
        Smaller cap on the score tile so that it stays in cache while it is reduced. Default:
        :data:`CPU_CACHE_TILE` on CPU (3.1× faster than one budget-sized tile for 196,560
        codewords, see ``benchmarks/bench_tiled_search.py``); none on GPU, where large
        tiles keep the kernel launches few (not measured: no GPU was available).

    Returns
    -------
    LongTensor (n,)

    References
    ----------
    The brute-force search of Spherical Leech Quantization (arXiv 2512.14697), tiled.
    """
    n, d = x.shape
    K = codebook.shape[0]
    es = x.element_size()
    tile = int(memory_budget_bytes)
    if cache_tile_bytes is None and x.device.type == "cpu":
        cache_tile_bytes = CPU_CACHE_TILE
    if cache_tile_bytes is not None:
        tile = min(tile, int(cache_tile_bytes))
    if K * es * 16 <= tile:
        kc = K
        tn = _chunks(n, K * es, tile)
    else:
        tn = min(max(n, 1), _TOKEN_TILE, max(1, tile // (es * 16)))
        kc = max(1, tile // (tn * es))
    out = torch.empty(n, dtype=torch.long, device=x.device)
    for s in range(0, n, tn):
        xs = x[s : s + tn]
        best_v = None
        best_i = None
        for k0 in range(0, K, kc):
            v, i = (xs @ codebook[k0 : k0 + kc].T).max(dim=1)
            i = i + k0
            if best_v is None:
                best_v, best_i = v, i
            else:
                better = v > best_v
                best_v = torch.where(better, v, best_v)
                best_i = torch.where(better, i, best_i)
        out[s : s + tn] = best_i
    return _finalize(x, out)


class TiledSearch(nn.Module):
    """Tiled matmul-argmax over a float codebook buffer (any code)."""

    def __init__(self, points: np.ndarray, memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET):
        super().__init__()
        self.memory_budget_bytes = int(memory_budget_bytes)
        self.register_buffer(
            "codebook", torch.as_tensor(np.asarray(points, dtype=np.float32)), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,)
        return tiled_nearest(x, self.codebook.to(x.dtype), self.memory_budget_bytes)


class LeechSearch(nn.Module):
    """Structured exact search on the 196,560 minimal vectors of the Leech lattice.

    The shell splits into three shapes (integer frame ``√8 Λ24``, SPLAG ch. 4 §11), and for
    each the best vector has a closed form or a small search:

    .. math::
        \\max_{v \\in \\Lambda_{24}(4)} \\langle x, v \\rangle = \\max\\Big(
        4(|x|_{(1)} + |x|_{(2)}),\\;
        \\max_{O} 2\\big(\\textstyle\\sum_{i\\in O}|x_i| - 2[\\pi_O]\\min_{i\\in O}|x_i|\\big),\\;
        \\max_{c \\in \\mathcal{C}_{24}} \\big(\\langle x, s_c\\rangle
        + 4\\max_t (-s_{c,t} x_t)\\big)\\Big)

    with ``|x|_{(1)} ≥ |x|_{(2)}`` the two largest magnitudes (shape ``±4²``), ``O`` the 759
    octads and ``π_O`` the parity of negative ``x_i`` on ``O`` (shape ``±2⁸``), and
    ``s_c = 1 − 2c`` the sign pattern of a Golay codeword with the special position ``t``
    carrying ``∓3`` (shape ``∓3, ±1²³``), following Adoul & Barth (1988). Octad sums and
    codeword correlations are matmuls with ``24 × 759`` and ``24 × 4096`` matrices; octad
    minima and the best special position use per-byte subset tables, so a token costs about
    ``2·10⁵`` scalar operations instead of the ``4.7·10⁶`` multiply-adds of the full
    196,560-row matmul, and no ``tokens × 196,560`` array exists. Indices follow
    :func:`lattiq.lattices.leech.leech_shell1`.

    References
    ----------
    J.-P. Adoul and M. Barth, "Nearest neighbor algorithm for spherical codes from the Leech
    lattice", IEEE Trans. Inf. Theory 34(5), 1988. Conway & Sloane, SPLAG, ch. 4 §11.
    """

    #: approximate bytes of temporaries per token and per byte of the input dtype
    _WORDS_PER_TOKEN = (layout.N_CODEWORDS * 4 + layout.N_OCTADS * 6 + 3 * 256 * 2
                        + 3 * 16 * 4 * 2)

    def __init__(self, memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET):
        super().__init__()
        lay = layout.leech_layout()
        self.memory_budget_bytes = int(memory_budget_bytes)
        p = np.arange(256)
        reg = lambda name, a: self.register_buffer(name, torch.as_tensor(a), persistent=False)
        reg("pair_rank", lay.pair_rank.copy())
        reg("oct_ind", lay.octad_mask.T.astype(np.float32))  # (24, 759)
        reg("oct_pos", lay.octads.copy())  # (759, 8)
        reg("oct_bytes", lay.octad_bytes.astype(np.int64))  # (759, 3)
        reg("sgn", lay.codeword_signs.T.astype(np.float32))  # (24, 4096)
        reg("cw_bits", lay.codewords.astype(bool))  # (4096, 24)
        reg("cw_bytes", lay.codeword_bytes.astype(np.int64))  # (4096, 3)
        reg("nib", ((np.arange(16)[:, None] >> np.arange(4)) & 1).astype(bool))  # (16, 4)
        reg("lo", p & 15)
        reg("hi", p >> 4)
        reg("rank_w", lay.sign_rank_weights.copy())  # (8,)

    def _nibble_max_signed(self, xb: torch.Tensor) -> torch.Tensor:
        """``(c, 3, 8) -> (c, 3, 256)``: ``max_{i} (bit_i(p) ? x_i : -x_i)`` per byte."""
        c = xb.shape[0]
        x4 = xb.reshape(c, 3, 2, 1, 4)  # two nibbles
        val = torch.where(self.nib, x4, -x4).amax(-1)  # (c, 3, 2, 16)
        return torch.maximum(val[:, :, 0, self.lo], val[:, :, 1, self.hi])

    def _nibble_min(self, ab: torch.Tensor) -> torch.Tensor:
        """``(c, 3, 8) -> (c, 3, 256)``: ``min_{i in p} a_i`` (``+inf`` for the empty set)."""
        c = ab.shape[0]
        a4 = ab.reshape(c, 3, 2, 1, 4)
        inf = torch.full((), float("inf"), dtype=ab.dtype, device=ab.device)
        val = torch.where(self.nib, a4, inf).amin(-1)  # (c, 3, 2, 16)
        return torch.minimum(val[:, :, 0, self.lo], val[:, :, 1, self.hi])

    def _chunk(self, x: torch.Tensor) -> torch.Tensor:  # (c, 24) -> (c,)
        c = x.shape[0]
        dt = x.dtype
        a = x.abs()
        neg = x < 0
        rows = torch.arange(c, device=x.device)
        # shape A: (±4, ±4, 0^22) on the two largest magnitudes
        v2, i2 = a.topk(2, dim=1)
        sA = 4 * v2.sum(1)
        i = torch.minimum(i2[:, 0], i2[:, 1])
        j = torch.maximum(i2[:, 0], i2[:, 1])
        idxA = layout.index_a(self.pair_rank[i, j], neg[rows, i].long(), neg[rows, j].long())
        # shape B: ±2 on an octad, an even number of minus signs
        oct_ind = self.oct_ind.to(dt)
        osum = a @ oct_ind  # (c, 759)
        odd = torch.remainder(neg.to(dt) @ oct_ind, 2)  # (c, 759) in {0, 1}
        mn = self._nibble_min(a.reshape(c, 3, 8))  # (c, 3, 256)
        ob = self.oct_bytes
        omin = torch.minimum(
            torch.minimum(mn[:, 0, ob[:, 0]], mn[:, 1, ob[:, 1]]), mn[:, 2, ob[:, 2]]
        )
        sB, o = (2 * (osum - 2 * odd * omin)).max(dim=1)
        pos = self.oct_pos[o]  # (c, 8)
        negp = neg.gather(1, pos)
        jm = a.gather(1, pos).argmin(dim=1)
        flip = (torch.arange(8, device=x.device) == jm[:, None]) & (odd[rows, o] > 0.5)[:, None]
        negp = negp ^ flip
        idxB = layout.index_b(o, (negp.long() * self.rank_w).sum(1))
        # shape C: sign pattern of a Golay codeword, ∓3 at the best special position
        S = x @ self.sgn.to(dt)  # (c, 4096)
        M = self._nibble_max_signed(x.reshape(c, 3, 8))  # (c, 3, 256)
        cb = self.cw_bytes
        mt = torch.maximum(torch.maximum(M[:, 0, cb[:, 0]], M[:, 1, cb[:, 1]]), M[:, 2, cb[:, 2]])
        sC, k = (S + 4 * mt).max(dim=1)
        t = torch.where(self.cw_bits[k], x, -x).argmax(dim=1)
        idxC = layout.index_c(k, t)
        w = torch.stack([sA, sB, sC], dim=1).argmax(dim=1)
        return torch.where(w == 0, idxA, torch.where(w == 1, idxB, idxC))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, 24) -> (n,)
        n = x.shape[0]
        step = _chunks(n, self._WORDS_PER_TOKEN * x.element_size(), self.memory_budget_bytes)
        xs = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        if step >= n:
            idx = self._chunk(xs)
        else:
            idx = torch.cat([self._chunk(xs[s : s + step]) for s in range(0, n, step)])
        return _finalize(x, idx)


def _key_table(int_points: np.ndarray):
    """Sorted integer keys of integer codewords, the permutation, and the key's radix."""
    ip = np.asarray(int_points, dtype=np.int64)
    lo = int(ip.min())
    base = int(ip.max()) - lo + 1
    d = ip.shape[1]
    if d * math.log2(base) >= 62:
        raise ValueError("codewords too long to key in int64")
    radix = base ** np.arange(d, dtype=np.int64)
    keys = (ip - lo) @ radix
    order = np.argsort(keys, kind="stable")
    return keys[order], order, lo, radix


class _KeyIndex(nn.Module):
    """Map exact integer codewords to their index with ``searchsorted`` (device-side)."""

    def __init__(self, int_points: np.ndarray, int_scale: float):
        super().__init__()
        keys, order, lo, radix = _key_table(int_points)
        self.lo = lo
        self.int_scale = float(int_scale)
        self.register_buffer("keys", torch.as_tensor(keys), persistent=False)
        self.register_buffer("order", torch.as_tensor(order), persistent=False)
        self.register_buffer("radix", torch.as_tensor(radix), persistent=False)

    def forward(self, v: torch.Tensor) -> torch.Tensor:  # (n, d) integer-valued -> (n,)
        key = ((v.long() - self.lo) * self.radix).sum(1)
        pos = torch.searchsorted(self.keys, key).clamp(max=self.keys.shape[0] - 1)
        hit = self.keys[pos] == key
        return torch.where(hit, self.order[pos], torch.full_like(pos, -1))


class RootSearch(nn.Module):
    """Structured search on the roots of E8 (240) or D4 (24).

    .. math::
        \\max_{r \\in R(E_8)} \\langle x, r\\rangle = \\max\\Big(|x|_{(1)} + |x|_{(2)},\\;
        \\tfrac12\\big(\\textstyle\\sum_i |x_i| - 2[\\pi]\\min_i |x_i|\\big)\\Big)

    where ``π`` is the parity of the negative coordinates: the roots are ``(±1², 0⁶)`` and
    ``(±½⁸)`` with an even number of minus signs (SPLAG ch. 4 §8.1); D4's roots are the
    first kind only (ch. 4 §7.2). The winning root is turned into an integer vector of the
    code's own frame and looked up in a sorted key table, so any index order works.

    References
    ----------
    Conway & Sloane, SPLAG, ch. 4 §7.2, §8.1; ch. 20 (decoding).
    """

    def __init__(self, kind: str, int_points: np.ndarray, int_scale: float):
        super().__init__()
        if kind not in ("e8", "d4"):
            raise ValueError(f"RootSearch handles 'e8' and 'd4', got {kind!r}")
        self.kind = kind
        self.dim = 8 if kind == "e8" else 4
        self.lookup = _KeyIndex(int_points, int_scale)
        # unit root (a ±1 pair has norm 2) -> integer frame of the code
        self._to_int = 1.0 / (math.sqrt(2.0) * float(int_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,)
        xs = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        n, d = xs.shape
        a = xs.abs()
        sgn = torch.where(xs < 0, -1.0, 1.0).to(xs.dtype)
        v2, i2 = a.topk(2, dim=1)
        pair = torch.zeros_like(xs)
        pair.scatter_(1, i2, sgn.gather(1, i2))  # (±1, ±1, 0...) in the norm-2 frame
        best = pair
        if self.kind == "e8":
            sA = v2.sum(1)
            odd = (xs < 0).sum(1) % 2 == 1
            jm = a.argmin(dim=1)
            flip = (torch.arange(d, device=xs.device) == jm[:, None]) & odd[:, None]
            half = 0.5 * torch.where(flip, -sgn, sgn)
            sB = (xs * half).sum(1)
            best = torch.where((sB > sA)[:, None], half, pair)
        v = torch.round(best * (self._to_int)).long()
        return _finalize(x, self.lookup(v))


class SignSearch(nn.Module):
    """Search on a binary code ``{±1/√d}^d``: the sign of each coordinate.

    .. math:: \\hat c(x)_i = \\operatorname{sign}(x_i)/\\sqrt d, \\quad \\operatorname{sign}(0) = +1

    The index packs one bit per coordinate; ``bit_order`` and ``negative_bit`` describe the
    registry's convention (checked against the code when the quantizer is built).

    References
    ----------
    Y. Zhao, Y. Xiong, P. Krähenbühl, "Image and video tokenization with binary spherical
    quantization" (BSQ), arXiv 2406.07548.
    """

    def __init__(self, dim: int, negative_bit: int = 1, little_endian: bool = True):
        super().__init__()
        if dim > 62:
            raise ValueError(f"binary codes up to dimension 62 fit an int64 index, got {dim}")
        self.dim = int(dim)
        self.negative_bit = int(negative_bit)
        p = np.arange(dim, dtype=np.int64)
        if not little_endian:
            p = p[::-1].copy()
        self.register_buffer("weights", torch.as_tensor(1 << p), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,)
        neg = x < 0
        bits = neg if self.negative_bit == 1 else ~neg
        idx = (bits.long() * self.weights).sum(1)
        return _finalize(x, idx)

    def signs(self, idx: torch.Tensor) -> torch.Tensor:  # (...) -> (..., d) float32 ±1
        bits = (idx[..., None] & self.weights) != 0
        neg = bits if self.negative_bit == 1 else ~bits
        return torch.where(neg, -1.0, 1.0)

    def codes(self, idx: torch.Tensor) -> torch.Tensor:  # (...) -> (..., d) float32 unit
        return self.signs(idx) * (1.0 / math.sqrt(self.dim))


@functools.lru_cache(maxsize=1)
def _leech_numba_tables():
    from lattiq.lattices.golay import golay_code
    from lattiq.lattices.leech import pair_rank_table

    G = golay_code()
    pw = 1 << np.arange(24, dtype=np.int64)
    cw_mask = G.codewords.astype(np.int64) @ pw
    octs = G.octads.astype(np.int64)
    oct_mask = (1 << octs).sum(axis=1)
    p = np.arange(256)
    pop = ((p[:, None] >> np.arange(8)) & 1).sum(1)
    parity8 = (pop & 1).astype(np.int64)
    low_bit = np.zeros(256, np.int64)
    low_bit[1:] = [(q & -q).bit_length() - 1 for q in range(1, 256)]
    e0_order = np.argsort(pop, kind="stable").astype(np.int64)
    return cw_mask, oct_mask, octs, pair_rank_table().copy(), parity8, low_bit, e0_order


def leech_nearest_numba(x) -> np.ndarray:
    """Nearest Leech shell-1 vector on the CPU with a compiled kernel (same result as
    :class:`LeechSearch`).

    .. math::
        \\hat v(x) = \\operatorname{arg\\,max}_{v \\in \\Lambda_{24}(4)} \\langle x, v\\rangle

    The three shapes are searched as in :class:`LeechSearch`, one token at a time with
    per-byte subset tables (sum, min and max of ``|x_i|`` over each of the 256 subsets of
    each byte of coordinates). For the ``(∓3, ±1²³)`` shape the score of Golay codeword
    ``c`` is ``Σ|x| − 2(Σ_{e}|x_i| − 2 max_{e}|x_i|)`` with ``e = c ⊕ [x < 0]``; codewords
    are visited in groups of 16 sharing their first byte (the generator is systematic), and a
    group is skipped when ``Σ|x| + 4 max|x| − 2 Σ_{e_0}|x_i|`` cannot beat the best score so
    far, which prunes most of the 4096 codewords without changing the result.

    Parameters
    ----------
    x : array or CPU tensor (n, 24), float32 or float64

    Returns
    -------
    ndarray (n,) int64, ``-1`` for rows with NaN/Inf, ``0`` for zero rows.

    References
    ----------
    J.-P. Adoul and M. Barth, IEEE Trans. Inf. Theory 34(5), 1988.
    """
    from ._kernels import leech_nearest_kernel

    if isinstance(x, torch.Tensor):
        if x.device.type != "cpu":
            raise ValueError(f"the numba kernel runs on CPU tensors, got device {x.device}")
        x = x.detach().numpy()
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != 24:
        raise ValueError(f"expected shape (n, 24), got {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"expected float32 or float64 input, got {arr.dtype}")
    arr = np.ascontiguousarray(arr)
    out = np.empty(arr.shape[0], np.int64)
    leech_nearest_kernel(arr, *_leech_numba_tables(), out)
    return out


class LeechSubsetSearch(nn.Module):
    """Structured search on a code made of Leech shell vectors (``leech-4600``,
    ``leech-891``): lift the input to ``R^24``, then take the best member of each family.

    .. math::
        \\hat k(x) = \\operatorname{arg\\,max}_{u \\in S} \\langle u, Lx\\rangle,\\quad
        S = A \\cup B \\cup C \\subset \\Lambda_{24}(4)

    where ``L`` is the code's lift (``⟨u, Lx⟩`` is proportional to the inner product of
    ``x`` with the code point of ``u``), ``A`` and ``C`` are explicit ``(±4², 0²²)`` and
    ``(∓3, ±1²³)`` vectors (a small matmul), and ``B`` is a list of octads whose members hold
    ``+2`` on fixed positions and every even sign pattern on the rest, so its best member is
    ``2(Σ_F x_i + Σ_{free}|x_i| − 2[\\text{odd}]\\min_{free}|x_i|)``. The code index is the
    member's position in the code's sorted Leech indices.

    References
    ----------
    Conway & Sloane, SPLAG, ch. 6 (Λ22, Λ23) and ch. 14; Adoul & Barth (1988).
    """

    def __init__(self, code):
        super().__init__()
        from lattiq.lattices.leech import leech_shell1

        sub = code._subset
        lay = layout.leech_layout()
        d = code.dim
        lift = np.asarray(code._lift(np.eye(d)), dtype=np.float64)  # (d, 24)
        explicit = np.concatenate([sub.a_pairs[:, 4], layout.index_c(sub.c_words, sub.c_special)])
        reg = lambda name, a: self.register_buffer(name, torch.as_tensor(a), persistent=False)
        reg("lift", lift.astype(np.float32))
        reg("vecs", leech_shell1()[explicit].astype(np.float32).T.copy())  # (24, nA + nC)
        reg("vec_leech", explicit.astype(np.int64))
        reg("oct_pos", lay.octads[sub.b_octads])  # (nB, 8)
        reg("oct_id", sub.b_octads.astype(np.int64))
        reg("fixed", sub.b_fixed.copy())  # (nB, 8) bool
        reg("leech_index", sub.leech_index.astype(np.int64))
        reg("rank_w", lay.sign_rank_weights.copy())  # (8,)
        self.has_b = sub.b_octads.size > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,)
        xs = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        y = xs @ self.lift.to(xs.dtype)  # (n, 24)
        sE, kE = (y @ self.vecs.to(xs.dtype)).max(dim=1)
        leech = self.vec_leech[kE]
        if self.has_b:
            yb = y[:, self.oct_pos]  # (n, nB, 8)
            ab = yb.abs()
            free = ~self.fixed
            inf = torch.full((), float("inf"), dtype=y.dtype, device=y.device)
            odd = ((yb < 0) & free).sum(-1) % 2  # (n, nB)
            mfree = torch.where(free, ab, inf).amin(-1)
            base = torch.where(self.fixed, yb, ab).sum(-1)
            sB_all = 2 * (base - 2 * odd.to(y.dtype) * mfree)
            sB, o = sB_all.max(dim=1)
            rows = torch.arange(y.shape[0], device=y.device)
            yo = yb[rows, o]  # (n, 8)
            fo = free[o]
            neg = (yo < 0) & fo
            jm = torch.where(fo, ab[rows, o], inf).argmin(dim=1)
            flip = (torch.arange(8, device=y.device) == jm[:, None]) & (odd[rows, o] == 1)[:, None]
            neg = neg ^ flip
            leechB = layout.index_b(self.oct_id[o], (neg.long() * self.rank_w).sum(1))
            leech = torch.where(sB > sE, leechB, leech)
        idx = torch.searchsorted(self.leech_index, leech)
        return _finalize(x, idx)
