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

A structured search serves the codes of one structure kind
(:attr:`lattiq.spherecodes.SphericalCode.structure`, :mod:`lattiq.spherecodes.structure`):
it is a :class:`StructuredSearch` registered with ``@register_search(kind)``, the one table
:class:`~lattiq.quantizers.SphericalQuantizer` reads (:func:`search_class`). Kinds without
a search (``"none"``, ``"fibonacci"``) get :func:`tiled_nearest`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

import lattiq.lattices.leech_layout as layout

__all__ = [
    "CPU_CACHE_TILE",
    "DEFAULT_MEMORY_BUDGET",
    "LEECH_AUTO_SEARCH",
    "LeechSearch",
    "LeechSubsetSearch",
    "RootSearch",
    "SignSearch",
    "StructuredSearch",
    "TiledSearch",
    "register_search",
    "registered_searches",
    "rule_choice",
    "search_class",
    "tiled_nearest",
]

DEFAULT_MEMORY_BUDGET = 64 * 2**20
#: score-tile cap of the CPU tiled search: a tile this size stays in cache while it is reduced
CPU_CACHE_TILE = 4 * 2**20
#: tokens per tile when the codebook itself must be tiled
_TOKEN_TILE = 256

#: Which search ``search_backend="auto"`` runs for the Leech code, per device type: rows
#: ``(from_tokens, search)``; the last row whose ``from_tokens`` is at most the number of
#: tokens in the call wins. Searches: ``"numba"`` (the code's compiled CPU kernel,
#: :func:`lattiq.spherecodes.search.leech_nearest`), ``"torch"`` (the structured
#: :class:`LeechSearch`), ``"tiled"`` (the matmul-argmax over all 196,560 codewords, cuBLAS
#: on CUDA). Device types not listed use ``"torch"``. All three return the same indices
#: (tested); only the speed differs.
#:
#: * ``cpu``: measured (``docs/benchmarks.md``): the compiled kernel is about 27x the
#:   torch structured search and over 100x the tiled one, at every batch size.
#: * ``cuda``: **provisional, not measured** — no GPU has run ``benchmarks/gpu_check.sh``
#:   yet. The guess: cuBLAS brute force wins while kernel launches dominate the structured
#:   search (small batches), the structured search above (it does about 25x fewer
#:   multiply-adds per token). Set the crossover from the first GPU table.
LEECH_AUTO_SEARCH: dict[str, tuple[tuple[int, str], ...]] = {
    "cpu": ((0, "numba"),),
    "cuda": ((0, "tiled"), (4096, "torch")),  # PROVISIONAL: pending the first GPU run
}

#: structure kind -> search class (:func:`register_search`)
_SEARCHES: dict[str, type[StructuredSearch]] = {}


def register_search(kind: str):
    """Class decorator: the torch search of the codes whose
    :attr:`~lattiq.spherecodes.SphericalCode.structure` has kind ``kind``.

    The class is a :class:`StructuredSearch`; :class:`~lattiq.quantizers.SphericalQuantizer`
    builds it with ``from_structure(structure, memory_budget_bytes)`` for every code of that
    kind, and codes of a kind with no search get the tiled matmul-argmax. Raises
    ``ValueError`` when ``kind`` already has a search.
    """

    def deco(cls: type[StructuredSearch]) -> type[StructuredSearch]:
        if kind in _SEARCHES:
            raise ValueError(
                f"structure kind {kind!r} already has a search ({_SEARCHES[kind].__name__})"
            )
        if not (isinstance(cls, type) and issubclass(cls, StructuredSearch)):
            raise TypeError(f"a search must subclass StructuredSearch, got {cls!r}")
        cls.structure_kind = kind
        _SEARCHES[kind] = cls
        return cls

    return deco


def search_class(kind: str) -> type[StructuredSearch] | None:
    """The search registered for structure kind ``kind``, or None (tiled search)."""
    return _SEARCHES.get(kind)


def registered_searches() -> tuple[str, ...]:
    """The structure kinds that have a search, sorted."""
    return tuple(sorted(_SEARCHES))


def rule_choice(rule: dict[str, tuple[tuple[int, str], ...]], device_type: str,
                n_tokens: int) -> str:
    """The search that a per-device rule (as :data:`LEECH_AUTO_SEARCH`) names for
    ``n_tokens`` tokens on ``device_type``; ``"torch"`` for devices it does not list."""
    choice = "torch"
    for start, name in rule.get(device_type, ()):
        if n_tokens >= start:
            choice = name
    return choice


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


class StructuredSearch(nn.Module):
    """Base of the searches in the table of :func:`register_search`.

    A subclass implements ``from_structure`` and ``forward(x (n, d)) -> (n,)`` with the
    conventions of this module (zero rows 0, non-finite rows -1), and may override:

    * :attr:`auto_rule`: a per-device rule like :data:`LEECH_AUTO_SEARCH` that
      ``search_backend="auto"`` follows; ``None``: the code's own compiled search on CPU
      tensors (where :attr:`compiled_cpu` allows and the code is a ``SphericalCode``), this
      search elsewhere;
    * :attr:`compiled_cpu`: ``False`` when this search beats the code's compiled one on CPU;
    * :meth:`codebook`: the table that ``indices_to_codes`` reads (default: the float32 unit
      codewords), or :attr:`computes_codes` with a ``codes(idx)`` method instead.
    """

    structure_kind: ClassVar[str] = ""
    auto_rule: ClassVar[dict[str, tuple[tuple[int, str], ...]] | None] = None
    compiled_cpu: ClassVar[bool] = True
    computes_codes: ClassVar[bool] = False

    @classmethod
    def from_structure(cls, structure: Any, memory_budget_bytes: int) -> StructuredSearch:
        raise NotImplementedError  # pragma: no cover - every registered search defines it

    def codebook(self, spec: Any) -> tuple[torch.Tensor, float | None]:
        """``(table, scale)``: codeword ``k`` is ``table[k] * scale`` (``scale=None``: the
        rows are the unit codewords). Default: the float32 unit codewords."""
        return torch.as_tensor(spec.points.astype(np.float32)), None


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


@register_search("leech-shell")
class LeechSearch(StructuredSearch):
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
    auto_rule = LEECH_AUTO_SEARCH

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

    @classmethod
    def from_structure(cls, structure: Any, memory_budget_bytes: int) -> LeechSearch:
        return cls(memory_budget_bytes)

    def codebook(self, spec: Any) -> tuple[torch.Tensor, float]:
        """The int8 shell and ``1/√32`` (a quarter of the float32 table's memory)."""
        st = spec.structure
        return torch.as_tensor(np.array(st.vectors)), float(st.int_scale)

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


@register_search("roots")
class RootSearch(StructuredSearch):
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

    @classmethod
    def from_structure(cls, structure: Any, memory_budget_bytes: int) -> RootSearch:
        return cls(structure.lattice, structure.vectors, structure.int_scale)

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


@register_search("sign")
class SignSearch(StructuredSearch):
    """Search on a binary code ``{±1/√d}^d``: the sign of each coordinate.

    .. math:: \\hat c(x)_i = \\operatorname{sign}(x_i)/\\sqrt d, \\quad \\operatorname{sign}(0) = +1

    The index packs one bit per coordinate, in the convention the code declares
    (:class:`~lattiq.spherecodes.structure.SignStructure`: ``negative_bit``,
    ``little_endian``). Codes come from the signs (:meth:`codes`), with no table; on CPU
    this O(d) search runs in place of the code's compiled one.

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

    compiled_cpu = False
    computes_codes = True

    @classmethod
    def from_structure(cls, structure: Any, memory_budget_bytes: int) -> SignSearch:
        return cls(structure.dim, structure.negative_bit, structure.little_endian)

    def codebook(self, spec: Any) -> tuple[torch.Tensor, None]:
        """No table: :meth:`codes` builds codewords from their index bits."""
        return torch.zeros(0, self.dim), None

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


@register_search("leech-subset")
class LeechSubsetSearch(StructuredSearch):
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

    def __init__(self, subset: Any, lift: np.ndarray):
        super().__init__()
        from lattiq.lattices.leech import leech_shell1

        lay = layout.leech_layout()
        explicit = np.concatenate([subset.a_pairs[:, 4],
                                   layout.index_c(subset.c_words, subset.c_special)])
        reg = lambda name, a: self.register_buffer(name, torch.as_tensor(a), persistent=False)
        reg("lift", np.asarray(lift, dtype=np.float32))  # (d, 24)
        reg("vecs", leech_shell1()[explicit].astype(np.float32).T.copy())  # (24, nA + nC)
        reg("vec_leech", explicit.astype(np.int64))
        reg("oct_pos", lay.octads[subset.b_octads])  # (nB, 8)
        reg("oct_id", subset.b_octads.astype(np.int64))
        reg("fixed", subset.b_fixed.copy())  # (nB, 8) bool
        reg("leech_index", subset.leech_index.astype(np.int64))
        reg("rank_w", lay.sign_rank_weights.copy())  # (8,)
        self.has_b = subset.b_octads.size > 0

    @classmethod
    def from_structure(cls, structure: Any, memory_budget_bytes: int) -> LeechSubsetSearch:
        return cls(structure.subset, structure.lift)

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
