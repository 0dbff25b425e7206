"""Factorized ("d-it") labels of the Leech code: 24 coordinates in {-4..4} per codeword.

Spherical Leech Quantization predicts each token as 24 nine-way labels instead of one of
196,560 classes. A codeword's labels are its integer coordinates in ``√8 Λ24`` (read from
an integer table indexed by code id, never by rounding floats); the inverse is the
closed-form rank :func:`lattiq.lattices.leech.leech_shell1_index`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

import lattiq.lattices.leech_layout as layout

__all__ = ["LEECH_LABEL_VALUES", "labels_to_indices", "leech_label_table", "leech_labels"]

#: The nine values a Leech label takes (integer frame, ``√8`` times standard coordinates).
LEECH_LABEL_VALUES = tuple(range(-4, 5))
_K = layout.SHELL_SIZE


@functools.lru_cache(maxsize=1)
def _table_cpu() -> torch.Tensor:
    from lattiq.lattices.leech import leech_shell1

    return torch.as_tensor(leech_shell1().copy())  # (196560, 24) int8


def leech_label_table(device: torch.device | str | None = None) -> torch.Tensor:
    """(196560, 24) int8 table: row ``k`` is codeword ``k`` in the integer frame."""
    t = _table_cpu()
    return t if device is None else t.to(device)


def leech_labels(indices: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
    """Leech codeword indices ``(...)`` -> labels ``(..., 24)`` int64 in ``{-4, ..., 4}``.

    .. math:: \\ell(k) = \\sqrt{8}\\, c_k \\in \\{-4,\\dots,4\\}^{24}

    where ``c_k`` is the ``k``-th minimal vector of ``Λ24`` (SPLAG ch. 4 §11 coordinates,
    order of :func:`lattiq.lattices.leech.leech_shell1`). Add 4 for class ids in ``0..8``.

    Parameters
    ----------
    indices : LongTensor (...)
        Codeword indices in ``[0, 196560)``.
    table : Tensor (196560, 24), optional
        A copy of :func:`leech_label_table` already on the right device (avoids a transfer).

    References
    ----------
    Spherical Leech Quantization, arXiv 2512.14697 (factorized prediction).
    """
    if not isinstance(indices, torch.Tensor):
        indices = torch.as_tensor(indices)
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise TypeError(f"indices must be an integer tensor, got {indices.dtype}")
    if indices.numel() and bool(((indices < 0) | (indices >= _K)).any()):
        bad = indices[(indices < 0) | (indices >= _K)].reshape(-1)[0]
        raise ValueError(f"Leech indices must be in [0, {_K}), got e.g. {int(bad)}")
    if table is None:
        table = leech_label_table(indices.device)
    return table[indices.long()].long()


class _RankTables:
    """The layout's tables on one device (:mod:`lattiq.lattices.leech_layout`; built once per
    device)."""

    def __init__(self, device: torch.device):
        lay = layout.leech_layout()
        t = lambda a: torch.as_tensor(np.array(a), device=device)
        self.pair_rank = t(lay.pair_rank)
        self.codewords = t(lay.codewords.astype(bool))  # (4096, 24)
        self.octad_rank = t(lay.octad_of_codeword)
        self.octads = t(lay.octads)  # (759, 8)
        self.index_w = t(lay.codeword_index_weights)  # (24,)
        self.rank_w = t(lay.sign_rank_weights)  # (8,)


_TABLES: dict[str, _RankTables] = {}


def _tables(device: torch.device) -> _RankTables:
    key = str(device)
    if key not in _TABLES:
        _TABLES[key] = _RankTables(device)
    return _TABLES[key]


def _rank(x: torch.Tensor) -> torch.Tensor:
    """Closed-form rank of integer vectors (n, 24); -1 where x is not a minimal vector."""
    T = _tables(x.device)
    n = x.shape[0]
    rows = torch.arange(n, device=x.device)
    ax = x.abs()
    norm = (x * x).sum(1)
    nz = (x != 0).sum(1)
    amax = ax.amax(1)
    neg = x < 0
    ok32 = norm == 32
    # shape A: (±4, ±4, 0^22); indices 4 * pair_rank + 2 [x_i < 0] + [x_j < 0]
    top = ax.topk(2, dim=1).indices
    i = top.amin(1)
    j = top.amax(1)
    idxA = layout.index_a(T.pair_rank[i, j], neg[rows, i].long(), neg[rows, j].long())
    isA = ok32 & (nz == 2) & (amax == 4)
    # shape B: (±2^8) on an octad, even number of minus signs
    supp = x != 0
    kB = (supp.long() * T.index_w).sum(1)
    o = T.octad_rank[kB]
    pos = T.octads[o.clamp(min=0)]  # (n, 8)
    rB = (neg.gather(1, pos).long() * T.rank_w).sum(1)
    isB = (ok32 & (nz == 8) & (amax == 2) & (o >= 0) & (T.codewords[kB] == supp).all(1)
           & (neg.sum(1) % 2 == 0))
    idxB = layout.index_b(o, rB)
    # shape C: (∓3, ±1^23) over a Golay codeword, special position t
    t = ax.argmax(1)
    cw = neg.clone()
    cw[rows, t] = x[rows, t] > 0
    kC = (cw.long() * T.index_w).sum(1)
    isC = (ok32 & (nz == 24) & (amax == 3) & ((ax == 3).sum(1) == 1)
           & (T.codewords[kC] == cw).all(1))
    idxC = layout.index_c(kC, t)
    out = torch.full((n,), -1, dtype=torch.long, device=x.device)
    out = torch.where(isA, idxA, out)
    out = torch.where(isB, idxB, out)
    return torch.where(isC, idxC, out)


def labels_to_indices(labels: torch.Tensor) -> torch.Tensor:
    """Labels ``(..., 24)`` in ``{-4..4}`` -> Leech codeword indices ``(...)`` int64.

    .. math::
        k(\\ell) = \\begin{cases}
        4\\,\\mathrm{rank}(i, j) + 2[\\ell_i < 0] + [\\ell_j < 0] & (\\pm 4^2, 0^{22})\\\\
        1104 + 128\\, o + \\sum_{m<7} [\\ell_{p_m} < 0]\\, 2^m & (\\pm 2^8)
        \\text{ on octad } o\\\\
        98256 + 24\\, k + t & (\\mp 3, \\pm 1^{23}),\\ \\text{codeword } k
        \\end{cases}

    computed with batched torch ops on the labels' device from the tables of
    :mod:`lattiq.lattices.leech_layout` (the order of
    :func:`lattiq.lattices.leech.leech_shell1`; :func:`lattiq.lattices.leech.leech_shell1_index`
    is the numpy reference the tests compare with). Raises ``ValueError`` when a row is not
    a minimal vector of ``√8 Λ24`` (for instance labels sampled independently per coordinate
    that do not form a codeword).

    References
    ----------
    Conway & Sloane, SPLAG, ch. 4 §11.
    """
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got {labels.dtype}")
    if labels.ndim == 0 or labels.shape[-1] != 24:
        raise ValueError(f"labels must have last dimension 24, got shape {tuple(labels.shape)}")
    if labels.numel() == 0:
        return torch.zeros(labels.shape[:-1], dtype=torch.long, device=labels.device)
    if bool(((labels < -4) | (labels > 4)).any()):
        raise ValueError("labels must lie in {-4, ..., 4}")
    x = labels.reshape(-1, 24).long()
    idx = _rank(x)
    bad = idx < 0
    if bool(bad.any()):
        r = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"{int(bad.sum())} label row(s) do not form a Leech codeword (a minimal vector of "
            f"sqrt(8)*Leech), e.g. row {r}: {x[r].tolist()}"
        )
    return idx.reshape(labels.shape[:-1])
