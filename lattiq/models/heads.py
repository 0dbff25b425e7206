"""Output heads of the generator: full softmax, Leech d-it head, BSQ per-bit head.

Shape legend: ``N`` tokens, ``D`` hidden width, ``V`` codebook size, ``P`` factor positions
(24 for Leech, ``d`` for BSQ), ``Q`` values per position (9 for Leech, 2 for BSQ).

Every head has the same interface, so the generator and its training loop do not care
which one the config picked:

* ``loss(h_ND, targets_N) -> CEOutput`` (mean over tokens);
* ``sample(h_cond_ND, h_uncond_ND | None, guidance, temperature, top_k, top_p, generator)
  -> (indices_N, finite)``, chunked over tokens, applying classifier-free guidance
  ``uncond + w (cond - uncond)`` to the head's log-probabilities.

The factorized heads predict integer labels of a codeword instead of its index:

* **d-it head (Leech)**: codeword ``c`` of the Leech code is ``x / √32`` for an integer
  vector ``x`` of shell 1 (coordinates in ``{-4, …, 4}``, see ``lattiq.lattices.leech``), so
  its label is ``x + 4 ∈ {0, …, 8}^24``: 24 independent 9-way softmaxes. Not every label
  vector is a codeword; sampling is done exactly over the 196,560 valid ones, with
  ``log p(c) = Σ_i log p_i(x_i + 4)`` renormalized over the code (top-k/top-p apply to it).
* **per-bit head (BSQ)**: the ``d`` bits of the index of a codeword of ``{±1/√d}^d`` are its
  coordinate signs (in the registry's fixed bit order and polarity: a bijection bit by bit,
  so factorizing over index bits is factorizing over signs), and every bit pattern is a
  codeword, so the bits are sampled independently (top-k and top-p do not apply to a
  per-bit distribution and are ignored; temperature and guidance apply).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lattiq.lattices.leech_layout import SHELL_SIZE, leech_layout

from .chunked_ce import CEOutput, chunked_cross_entropy

__all__ = [
    "BitHead",
    "DitHead",
    "FullSoftmaxHead",
    "HEADS",
    "bits_to_index",
    "filter_logits",
    "index_to_bits",
    "leech_codeword_log_probs",
    "make_head",
]

HEADS = ("full", "dit", "bits")


@lru_cache(maxsize=1)
def _leech_structure() -> dict[str, torch.Tensor]:
    """Index tables of the three shapes of Leech shell 1, in codeword order (read from
    :mod:`lattiq.lattices.leech_layout`)."""
    lay = leech_layout()
    neg = (lay.sign_patterns < 0).astype(np.float32)  # (128, 8)
    return {
        "I": torch.from_numpy(lay.pairs[:, 0].copy()),  # pairs i < j in pair-rank order
        "J": torch.from_numpy(lay.pairs[:, 1].copy()),
        "octads": torch.from_numpy(lay.octads.copy()),  # (759, 8)
        "neg": torch.from_numpy(neg.T.copy()),  # (8, 128)
        "c": torch.from_numpy(lay.codewords.astype(np.float32)),  # (4096, 24)
    }


def leech_codeword_log_probs(logp_NPQ: torch.Tensor) -> torch.Tensor:
    r"""Scores of all 196,560 Leech codewords from per-position label log-probabilities.

    .. math:: s(c) = \sum_{i=1}^{24} \log p_i\big(x_i(c) + 4\big)

    computed shape by shape from the structure of shell 1 (SPLAG ch. 4 §11) instead of 24
    gathers of ``N × V``: with :math:`z = \sum_i \log p_i(4)` (all coordinates 0),
    shape A ``(±4², 0²²)`` is ``z`` plus two corrections; shape B ``(±2⁸)`` on an octad is
    ``z`` plus eight corrections, summed over the 128 even sign patterns by one ``(8, 128)``
    product; shape C ``(∓3, ±1²³)`` is a ``(24, 4096)`` product with the Golay codewords
    plus one correction at the special position. The order is ``leech_shell1``'s.

    Parameters
    ----------
    logp_NPQ : Tensor (N, 24, 9)
        ``log p_i(label)``, labels ``0..8`` meaning coordinates ``-4..4``.

    Returns
    -------
    Tensor (N, 196560)
    """
    t = _leech_structure()
    dev = logp_NPQ.device
    L = logp_NPQ.float()
    N = L.shape[0]

    def at(v):  # (N, 24): log-prob of coordinate value v
        return L[:, :, v + 4]

    z = at(0).sum(1)  # (N,)
    # shape A: index 4·pair + 2·[s_i < 0] + [s_j < 0]
    dA = torch.stack([at(4), at(-4)], dim=1) - at(0)[:, None]  # (N, 2, 24)
    I, J = t["I"].to(dev), t["J"].to(dev)
    sA = dA[:, :, I][:, :, :, None].permute(0, 2, 1, 3) + dA[:, :, J][:, None].permute(0, 3, 1, 2)
    sA = sA.reshape(N, -1) + z[:, None]  # (N, 1104)
    # shape B: index 1104 + 128·octad + r
    oc = t["octads"].to(dev)
    plus, minus = at(2) - at(0), at(-2) - at(0)
    base = plus[:, oc].sum(-1)  # (N, 759)
    delta = (minus - plus)[:, oc]  # (N, 759, 8)
    sB = (delta @ t["neg"].to(dev)) + (base + z[:, None])[:, :, None]  # (N, 759, 128)
    # shape C: index 98256 + 24·k + t; x_i = 1 - 2c_i, x_t = -3(1 - 2c_t)
    c = t["c"].to(dev)
    baseC = at(1).sum(1)[:, None] + (at(-1) - at(1)) @ c.t()  # (N, 4096)
    corr0 = at(-3) - at(1)  # c_t = 0: +1 -> -3
    corr1 = at(3) - at(-1)  # c_t = 1: -1 -> +3
    sC = baseC[:, :, None] + corr0[:, None, :] + c[None] * (corr1 - corr0)[:, None, :]
    return torch.cat([sA, sB.reshape(N, -1), sC.reshape(N, -1)], dim=1)


def index_to_bits(idx: torch.Tensor, bits: int) -> torch.Tensor:
    """(...) int64 indices -> (..., bits) {0, 1}: bit ``i`` is ``(idx >> i) & 1``."""
    shifts = torch.arange(bits, device=idx.device)
    return (idx[..., None] >> shifts) & 1


def bits_to_index(b: torch.Tensor) -> torch.Tensor:
    """(..., bits) {0, 1} -> (...) int64: ``Σ_i b_i 2^i`` (inverse of :func:`index_to_bits`)."""
    w = 2 ** torch.arange(b.shape[-1], device=b.device, dtype=torch.int64)
    return (b.to(torch.int64) * w).sum(-1)


def filter_logits(logits_NV: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    r"""Mask all but the ``top_k`` largest logits and the smallest top-``p`` nucleus.

    .. math:: \{v : \ell_v \ge \ell_{(k)}\} \cap \{v : \textstyle\sum_{u \succ v} p_u < p\}

    (Fan et al. 2018 for top-k; Holtzman et al. 2020, "The curious case of neural text
    degeneration", for top-p). ``top_k = 0`` and ``top_p = 1`` disable the filters; the most
    likely token is always kept. Masked entries become ``-inf``.
    """
    V = logits_NV.shape[-1]
    use_k = bool(top_k) and 0 < top_k < V
    if not use_k and top_p >= 1.0:
        return logits_NV
    # candidates in descending order: the top k, or every entry (a full sort) for top-p alone
    if use_k:
        vals, order = torch.topk(logits_NV, top_k, dim=-1)
    else:
        vals, order = torch.sort(logits_NV, dim=-1, descending=True)
    keep = torch.ones_like(vals, dtype=torch.bool)
    if use_k:  # ties with the k-th value are kept too
        keep_all = logits_NV >= vals[..., -1:]
    if top_p < 1.0:
        probs = torch.softmax(vals, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # mass strictly before each entry
        keep = before < top_p
        keep[..., 0] = True
        if use_k:
            keep_all = torch.zeros_like(logits_NV, dtype=torch.bool).scatter(-1, order, keep)
    if not use_k:
        keep_all = torch.zeros_like(logits_NV, dtype=torch.bool).scatter(-1, order, keep)
    return logits_NV.masked_fill(~keep_all, float("-inf"))


def _sample_categorical(logits_NV, temperature, top_k, top_p, generator):
    if temperature == 0.0:
        return filter_logits(logits_NV, top_k, top_p).argmax(-1)
    lg = filter_logits(logits_NV / temperature, top_k, top_p)
    # inverse-CDF draw (torch.multinomial is slow for 10^5 categories on CPU): the first
    # index whose cumulative mass exceeds u; zero-mass entries can never be that index.
    cdf = torch.cumsum(torch.softmax(lg.float(), dim=-1), dim=-1)
    u = torch.rand(cdf.shape[0], 1, generator=generator, dtype=cdf.dtype, device=cdf.device)
    idx = torch.searchsorted(cdf, u * cdf[:, -1:], right=True).squeeze(-1)
    return idx.clamp_max(cdf.shape[-1] - 1)


class _Head(nn.Module):
    sample_chunk = 256

    def log_probs(self, h_ND: torch.Tensor) -> torch.Tensor:  # head-specific shape
        """Log-probabilities up to a constant per token (what guidance mixes and sampling
        normalizes; the constants cancel in both)."""
        raise NotImplementedError

    def _draw(self, logp, temperature, top_k, top_p, generator) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, h_cond, h_uncond=None, guidance=1.0, temperature=1.0, top_k=0, top_p=1.0,
               generator=None):
        """Draw one index per token; returns ``(indices (N,), all_logits_finite)``."""
        out, finite = [], True
        for s in range(0, h_cond.shape[0], self.sample_chunk):
            lp = self.log_probs(h_cond[s : s + self.sample_chunk])
            if h_uncond is not None:
                lu = self.log_probs(h_uncond[s : s + self.sample_chunk])
                lp = lu + guidance * (lp - lu)
            if not bool(torch.isfinite(lp).all()):
                finite = False
                lp = torch.nan_to_num(lp, nan=0.0, posinf=0.0, neginf=-1e30)
            out.append(self._draw(lp, temperature, top_k, top_p, generator))
        return torch.cat(out), finite


class FullSoftmaxHead(_Head):
    r"""Linear head over the whole codebook, trained with chunked cross-entropy and Z-loss.

    .. math:: p(v \mid h) = \mathrm{softmax}(W h + b)_v, \qquad W \in \mathbb{R}^{V\times D}
    """

    kind = "full"

    def __init__(self, width: int, vocab: int, z_loss: float = 1e-4, ce_chunk: int = 2048):
        super().__init__()
        self.vocab, self.z_loss, self.ce_chunk = vocab, z_loss, ce_chunk
        self.proj = nn.Linear(width, vocab)
        nn.init.normal_(self.proj.weight, std=0.02)
        nn.init.zeros_(self.proj.bias)

    def loss(self, h_ND: torch.Tensor, t_N: torch.Tensor) -> CEOutput:
        return chunked_cross_entropy(h_ND, self.proj.weight, t_N, self.proj.bias,
                                     z_loss=self.z_loss, chunk_size=self.ce_chunk)

    def log_probs(self, h_ND):  # (N, V) logits: log-probabilities up to log Z
        return self.proj(h_ND).float()

    def _draw(self, logp, temperature, top_k, top_p, generator):
        return _sample_categorical(logp, temperature, top_k, top_p, generator)


class DitHead(_Head):
    r"""Factorized Leech head: 24 independent 9-way softmaxes over the integer labels.

    .. math::
        \log p(c \mid h) \propto \sum_{i=1}^{24} \log p_i(x_i(c) + 4 \mid h),
        \quad x(c) \in \sqrt{8}\Lambda_{24},\ \lVert x\rVert^2 = 32

    The training loss is :math:`-\sum_i \log p_i`, an upper bound on the NLL of the
    renormalized model; sampling is exact over the 196,560 codewords.
    """

    kind = "dit"
    positions, values = 24, 9

    def __init__(self, width: int, vocab: int = SHELL_SIZE):
        super().__init__()
        if vocab != SHELL_SIZE:
            raise ValueError(
                f"the d-it head is for the Leech code (196,560 codewords), not a code of {vocab}"
            )
        self.proj = nn.Linear(width, self.positions * self.values)
        nn.init.normal_(self.proj.weight, std=0.02)
        nn.init.zeros_(self.proj.bias)
        from lattiq.quantizers.labels import leech_label_table

        # (V, 24) int8 coordinates in {-4..4}, codeword order (the quantizer's label table)
        self.register_buffer("label_table", leech_label_table().clone(), persistent=False)

    def position_logits(self, h_ND):  # (N, 24, 9)
        return self.proj(h_ND).float().view(*h_ND.shape[:-1], self.positions, self.values)

    def labels(self, idx: torch.Tensor) -> torch.Tensor:
        """(...) codeword indices -> (..., 24) labels in ``0..8`` (coordinate + 4)."""
        from lattiq.quantizers.labels import leech_labels

        return leech_labels(idx, self.label_table) + 4

    def loss(self, h_ND, t_N) -> CEOutput:
        lab = self.labels(t_N)  # (N, 24)
        lg = self.position_logits(h_ND)
        ce = F.cross_entropy(lg.reshape(-1, self.values), lab.reshape(-1), reduction="sum")
        ce = ce / max(t_N.numel(), 1)
        zero = ce.new_zeros(())
        return CEOutput(ce, ce.detach(), zero)

    def codeword_log_probs(self, logp_NPQ: torch.Tensor) -> torch.Tensor:
        """(N, 24, 9) per-position log-probs -> (N, V) codeword scores (unnormalized)."""
        return leech_codeword_log_probs(logp_NPQ)

    def log_probs(self, h_ND):  # (N, 24, 9) logits: per-position constants sum to one
        return self.position_logits(h_ND)

    def _draw(self, logp, temperature, top_k, top_p, generator):
        return _sample_categorical(self.codeword_log_probs(logp), temperature, top_k, top_p,
                                   generator)


class BitHead(_Head):
    r"""Per-bit head for BSQ: ``d`` independent Bernoulli logits.

    .. math:: \log p(c \mid h) = \sum_{i=1}^{d} \log \sigma\big((2b_i - 1)\, \ell_i(h)\big)

    Codeword index ``Σ_i b_i 2^i`` (:func:`bits_to_index`); for a BSQ code bit ``i`` is one
    coordinate's sign.
    """

    kind = "bits"

    def __init__(self, width: int, vocab: int):
        super().__init__()
        bits = int(round(math.log2(vocab)))
        if vocab < 2 or 2**bits != vocab:
            raise ValueError(f"the per-bit head needs a codebook of 2^d codewords, got {vocab}")
        self.bits = bits
        self.proj = nn.Linear(width, bits)
        nn.init.normal_(self.proj.weight, std=0.02)
        nn.init.zeros_(self.proj.bias)

    def loss(self, h_ND, t_N) -> CEOutput:
        b = index_to_bits(t_N, self.bits).float()
        lg = self.proj(h_ND).float()
        ce = F.binary_cross_entropy_with_logits(lg, b, reduction="sum") / max(t_N.numel(), 1)
        return CEOutput(ce, ce.detach(), ce.new_zeros(()))

    def log_probs(self, h_ND):  # (N, bits, 2): log p(b_i = 0), log p(b_i = 1)
        lg = self.proj(h_ND).float()
        return torch.stack([F.logsigmoid(-lg), F.logsigmoid(lg)], dim=-1)

    def _draw(self, logp, temperature, top_k, top_p, generator):
        logit = logp[..., 1] - logp[..., 0]  # guided log-odds
        if temperature == 0.0:
            b = (logit > 0).to(torch.int64)
        else:
            p1 = torch.sigmoid(logit / temperature)
            u = torch.rand(p1.shape, generator=generator, device=p1.device)
            b = (u < p1).to(torch.int64)
        return bits_to_index(b)


def make_head(kind: str, width: int, vocab: int, z_loss: float = 1e-4, ce_chunk: int = 2048):
    """Build the head named ``kind`` (``"full"``, ``"dit"`` or ``"bits"``)."""
    if kind == "full":
        return FullSoftmaxHead(width, vocab, z_loss=z_loss, ce_chunk=ce_chunk)
    if kind == "dit":
        return DitHead(width, vocab)
    if kind == "bits":
        return BitHead(width, vocab)
    raise ValueError(f"unknown head {kind!r}; choose one of {HEADS}")
