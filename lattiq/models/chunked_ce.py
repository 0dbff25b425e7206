"""Memory-efficient cross-entropy over a huge vocabulary, with Z-loss.

Shape legend: ``N`` tokens (all leading dimensions flattened), ``D`` hidden width, ``V``
vocabulary size (196,560 for the Leech code), ``C`` tokens per chunk.

A plain linear head followed by cross-entropy holds ``N × V`` float32 logits and, in the
backward pass, their gradient: at 64k tokens and ``V = 196,560`` that is about 50 GB.
Here the logits are never materialized for more than ``C`` tokens at once: the forward pass
keeps only the per-token ``log Z`` (``N`` floats) and the backward pass recomputes each
chunk's logits from the saved hidden states and weight.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = ["CEOutput", "chunked_cross_entropy", "reference_cross_entropy"]


class CEOutput(NamedTuple):
    """Loss terms of a (chunked) cross-entropy.

    Attributes
    ----------
    loss : Tensor ()
        ``ce + z_loss * log_z_sq``: the quantity to back-propagate.
    ce : Tensor ()
        Mean negative log-likelihood of the targets over the non-ignored tokens.
    log_z_sq : Tensor ()
        Mean of ``(log Z)^2`` over the non-ignored tokens (unweighted).
    """

    loss: torch.Tensor
    ce: torch.Tensor
    log_z_sq: torch.Tensor


class _ChunkedCE(torch.autograd.Function):
    """Sums ``Σ_n (lse_n - logit_{n,t_n})`` and ``Σ_n lse_n²`` over valid tokens, chunked."""

    @staticmethod
    def forward(ctx, h_ND, w_VD, b_V, t_N, valid_N, chunk):  # noqa: D401
        N = h_ND.shape[0]
        acc = _acc_dtype(w_VD)
        lse_N = torch.empty(N, dtype=acc, device=h_ND.device)
        tgt_N = torch.empty(N, dtype=acc, device=h_ND.device)
        safe_t_N = torch.where(valid_N, t_N, torch.zeros_like(t_N))
        for s in range(0, N, chunk):
            e = min(s + chunk, N)
            logits_CV = _chunk_logits(h_ND[s:e], w_VD, b_V)
            tgt_N[s:e] = logits_CV.gather(1, safe_t_N[s:e, None]).squeeze(1)
            # log-sum-exp in place (one C x V buffer): max + log Σ exp(ℓ - max)
            m_C = logits_CV.amax(dim=-1, keepdim=True)
            lse_N[s:e] = logits_CV.sub_(m_C).exp_().sum(-1).log_() + m_C.squeeze(-1)
            del logits_CV
        v = valid_N.to(acc)
        ce = ((lse_N - tgt_N) * v).sum()
        zsq = (lse_N.square() * v).sum()
        ctx.save_for_backward(h_ND, w_VD, b_V if b_V is not None else h_ND.new_empty(0),
                              safe_t_N, valid_N, lse_N)
        ctx.has_bias = b_V is not None
        ctx.chunk = chunk
        return ce, zsq

    @staticmethod
    def backward(ctx, g_ce, g_z):
        h_ND, w_VD, b_V, t_N, valid_N, lse_N = ctx.saved_tensors
        b_V = b_V if ctx.has_bias else None
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        N, chunk = h_ND.shape[0], ctx.chunk
        acc = _acc_dtype(w_VD)
        g_ce = g_ce.to(acc)
        g_z = g_z.to(acc)
        gh_ND = torch.zeros(h_ND.shape, dtype=acc, device=h_ND.device) if need_h else None
        gw_VD = torch.zeros(w_VD.shape, dtype=acc, device=w_VD.device) if need_w else None
        gb_V = (
            torch.zeros(w_VD.shape[0], dtype=acc, device=w_VD.device)
            if (need_b and b_V is not None)
            else None
        )
        for s in range(0, N, chunk):
            e = min(s + chunk, N)
            v_C = valid_N[s:e].to(acc)
            logits_CV = _chunk_logits(h_ND[s:e], w_VD, b_V)
            # d/dlogits of  g_ce·(lse - logit_t) + g_z·lse²  =  p·(g_ce + 2 g_z lse) - g_ce·onehot
            p_CV = logits_CV.sub_(lse_N[s:e, None]).exp_()  # in place: one C x V buffer
            coef_C = (g_ce + 2.0 * g_z * lse_N[s:e]) * v_C
            d_CV = p_CV.mul_(coef_C[:, None])
            d_CV.scatter_add_(1, t_N[s:e, None], (-g_ce * v_C)[:, None])
            if gh_ND is not None:
                gh_ND[s:e] = d_CV.to(w_VD.dtype) @ w_VD
            if gw_VD is not None:
                gw_VD.addmm_(d_CV.t(), h_ND[s:e].to(acc))
            if gb_V is not None:
                gb_V.add_(d_CV.sum(0))
            del logits_CV, p_CV, d_CV
        gh = gh_ND.to(h_ND.dtype) if gh_ND is not None else None
        gw = gw_VD.to(w_VD.dtype) if gw_VD is not None else None
        gb = gb_V.to(b_V.dtype) if gb_V is not None else None
        return gh, gw, gb, None, None, None


def _acc_dtype(w: torch.Tensor) -> torch.dtype:
    """Accumulation dtype: float64 for float64 weights, float32 otherwise."""
    return torch.float64 if w.dtype == torch.float64 else torch.float32


def _chunk_logits(h_CD: torch.Tensor, w_VD: torch.Tensor, b_V: torch.Tensor | None):
    """(C, V) logits of one chunk (matmul in the weights' dtype, then upcast)."""
    logits = h_CD.to(w_VD.dtype) @ w_VD.t()
    if b_V is not None:
        logits.add_(b_V)  # in place: no second C x V buffer
    return logits.to(_acc_dtype(w_VD))


def _check(hidden, weight, targets, bias, z_loss, ignore_index):
    if not isinstance(hidden, torch.Tensor) or not isinstance(weight, torch.Tensor):
        raise TypeError("hidden and weight must be torch tensors")
    if not hidden.is_floating_point() or not weight.is_floating_point():
        raise TypeError(
            f"hidden and weight must be floating point, got {hidden.dtype} and {weight.dtype}"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight must be (V, D), got shape {tuple(weight.shape)}")
    if hidden.dim() < 1 or hidden.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"hidden's last dimension ({tuple(hidden.shape)}) must equal the weight's width "
            f"D = {weight.shape[1]}"
        )
    if not isinstance(targets, torch.Tensor) or targets.dtype not in (torch.int64, torch.int32):
        raise TypeError("targets must be an int64 (or int32) tensor of class indices")
    if tuple(targets.shape) != tuple(hidden.shape[:-1]):
        raise ValueError(
            f"targets shape {tuple(targets.shape)} must equal hidden's leading shape "
            f"{tuple(hidden.shape[:-1])}"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
        raise ValueError(f"bias must be (V,) = ({weight.shape[0]},), got {tuple(bias.shape)}")
    if not (math.isfinite(z_loss) and z_loss >= 0.0):
        raise ValueError(f"z_loss must be a finite number >= 0, got {z_loss}")
    V = weight.shape[0]
    valid = targets != ignore_index
    if targets.numel() and bool(((targets[valid] < 0) | (targets[valid] >= V)).any()):
        bad = targets[valid][(targets[valid] < 0) | (targets[valid] >= V)][0].item()
        raise ValueError(
            f"target {bad} is outside [0, {V}) and is not ignore_index ({ignore_index})"
        )
    return valid


def chunked_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    z_loss: float = 1e-4,
    chunk_size: int = 2048,
    ignore_index: int = -100,
) -> CEOutput:
    r"""Cross-entropy of a linear head with Z-loss, never holding all logits at once.

    With logits :math:`\ell_n = W h_n + b` and :math:`\log Z_n = \log\sum_v e^{\ell_{n,v}}`,

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{N}|}\sum_{n\in\mathcal{N}}
        \Big[(\log Z_n - \ell_{n,t_n}) + \alpha\,(\log Z_n)^2\Big],

    over the tokens :math:`\mathcal{N}` whose target is not ``ignore_index``. The second
    term is the Z-loss of Chowdhery et al. 2022 (PaLM, §5), which keeps :math:`\log Z` near 0
    so that large-vocabulary logits do not drift. The gradient with respect to the logits is
    :math:`(1 + 2\alpha\log Z_n)\,\mathrm{softmax}(\ell_n) - e_{t_n}` (over
    :math:`|\mathcal{N}|`); the backward pass recomputes each chunk's logits instead of
    storing them (the idea of Wijmans et al. 2024, "Cut your losses in large-vocabulary
    language models"), so peak extra memory is ``chunk_size × V`` floats plus the
    ``V × D`` weight gradient.

    Parameters
    ----------
    hidden : Tensor (..., D)
        Hidden states entering the head.
    weight : Tensor (V, D)
        Head weight (``nn.Linear(D, V).weight``).
    targets : LongTensor (...)
        Target class per token, in ``[0, V)`` or equal to ``ignore_index``.
    bias : Tensor (V,), optional
        Head bias.
    z_loss : float
        :math:`\alpha`, default ``1e-4``; ``0`` gives plain cross-entropy.
    chunk_size : int
        Tokens per chunk ``C``.
    ignore_index : int
        Targets with this value contribute nothing.

    Returns
    -------
    CEOutput
        ``(loss, ce, log_z_sq)``; ``loss`` carries the gradient. With no valid token all
        three are zero.

    References
    ----------
    A. Chowdhery et al., "PaLM: Scaling language modeling with pathways", JMLR 2023.
    E. Wijmans et al., "Cut your losses in large-vocabulary language models", ICLR 2025.
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    valid = _check(hidden, weight, targets, bias, z_loss, ignore_index)
    D = weight.shape[1]
    h_ND = hidden.reshape(-1, D)
    t_N = targets.reshape(-1).to(torch.int64)
    valid_N = valid.reshape(-1)
    n_valid = max(int(valid_N.sum()), 1)
    ce_sum, z_sum = _ChunkedCE.apply(h_ND, weight, bias, t_N, valid_N, chunk_size)
    ce = ce_sum / n_valid
    zsq = z_sum / n_valid
    return CEOutput(ce + z_loss * zsq, ce, zsq)


def reference_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    z_loss: float = 1e-4,
    ignore_index: int = -100,
) -> CEOutput:
    r"""The same loss as :func:`chunked_cross_entropy`, computed plainly (all logits at once).

    .. math::
        \mathcal{L} = \mathrm{CE}(W h + b, t) + \alpha\,\overline{(\log Z)^2}

    Used as the oracle in tests and as the baseline in ``benchmarks/bench_chunked_ce.py``;
    it holds ``N × V`` float32 logits and their gradient.
    """
    valid = _check(hidden, weight, targets, bias, z_loss, ignore_index)
    D = weight.shape[1]
    logits_NV = (hidden.reshape(-1, D).to(weight.dtype) @ weight.t())
    if bias is not None:
        logits_NV = logits_NV + bias
    logits_NV = logits_NV.to(_acc_dtype(weight))
    t_N = targets.reshape(-1).to(torch.int64)
    v_N = valid.reshape(-1).to(logits_NV.dtype)
    n_valid = max(int(v_N.sum()), 1)
    lse_N = torch.logsumexp(logits_NV, dim=-1)
    tgt_N = logits_NV.gather(1, torch.where(v_N > 0, t_N, 0)[:, None]).squeeze(1)
    ce = ((lse_N - tgt_N) * v_N).sum() / n_valid
    zsq = (lse_N.square() * v_N).sum() / n_valid
    return CEOutput(ce + z_loss * zsq, ce, zsq)
