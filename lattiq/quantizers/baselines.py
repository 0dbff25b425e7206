"""Baselines the paper compares against: BSQ, LFQ (with entropy penalties) and a
random-projection quantizer.

Shape legend: ``...`` leading batch shape, ``d`` bits per token (BSQ/LFQ) or the code's
dimension (random projection), ``n`` tokens, ``K = 2^d`` (binary codes).

Entropy terms are in nats. With per-bit probabilities ``p_i(±)`` of a token, the
per-sample entropy factorizes exactly, ``H(q(c|z)) = Σ_i H(p_i)``; the batch ("codebook")
entropy ``H(E_z q(c|z))`` does not, and is computed either exactly over all ``2^d`` codes
(``entropy_mode="exact"``, for ``d ≤ 16``, in token chunks) or by the factorized
approximation ``Σ_i H(E_z p_i)`` (an upper bound, used for large ``d``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._codebook import spherecodes_available
from .base import Quantizer, QuantizerOutput
from .registry import register_quantizer
from .search import SignSearch
from .spherical import SphericalQuantizer, _check_sha, _is_compiling
from .usage import CodeUsage

__all__ = ["BSQQuantizer", "LFQQuantizer", "RandomProjectionQuantizer", "binary_entropy_terms"]

ENTROPY_MODES = ("factorized", "exact")
_MAX_EXACT_BITS = 16


def _bern_entropy(logit: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of Bernoulli(σ(logit)), elementwise, stable for large |logit|."""
    p = torch.sigmoid(logit)
    return F.softplus(logit) - p * logit


def binary_entropy_terms(
    logits: torch.Tensor,
    mode: str = "factorized",
    chunk_bytes: int = 64 * 2**20,
    process_group: Any = None,
    sync: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample and batch entropy of factorized binary code assignments.

    .. math::
        H_{\\mathrm{sample}} = \\frac1n \\sum_{t=1}^n \\sum_{i=1}^d h(\\sigma(\\ell_{t,i})),
        \\qquad
        H_{\\mathrm{batch}} = H\\Big(\\frac1n \\sum_t q(\\cdot \\mid z_t)\\Big)
        \\;\\le\\; \\sum_i h\\Big(\\frac1n\\sum_t \\sigma(\\ell_{t,i})\\Big)

    where ``ℓ_{t,i}`` is the log-odds of bit ``i`` being positive for token ``t`` and ``h``
    the binary entropy. ``mode="factorized"`` returns the right-hand bound (MAGVIT-v2's and
    BSQ's approximation for large codebooks); ``"exact"`` sums over all ``2^d`` codes.

    Parameters
    ----------
    logits : Tensor (n, d)
    mode : {"factorized", "exact"}
    sync : bool
        Average the batch probabilities over DDP ranks (differentiable all-reduce).

    Returns
    -------
    (per_sample, batch) : two 0-dim tensors, in nats.

    References
    ----------
    L. Yu et al., "Language Model Beats Diffusion — Tokenizer is Key to Visual Generation"
    (MAGVIT-v2, LFQ), ICLR 2024; Y. Zhao et al., "Image and Video Tokenization with Binary
    Spherical Quantization", arXiv 2406.07548.
    """
    n, d = logits.shape
    per_sample = _bern_entropy(logits).sum(-1).mean()
    world = 1
    if sync:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            world = dist.get_world_size(process_group)

    def _avg(t: torch.Tensor) -> torch.Tensor:
        if world > 1:
            from torch.distributed.nn.functional import all_reduce

            t = all_reduce(t, group=process_group) / world
        return t

    if mode == "factorized":
        p = _avg(torch.sigmoid(logits).mean(0))  # (d,)
        batch = (-(p * torch.log(p.clamp_min(1e-12)))
                 - (1 - p) * torch.log((1 - p).clamp_min(1e-12))).sum()
        return per_sample, batch
    if mode != "exact":
        raise ValueError(f"entropy mode must be one of {ENTROPY_MODES}, got {mode!r}")
    if d > _MAX_EXACT_BITS:
        raise ValueError(
            f"exact batch entropy enumerates 2^{d} codes; use mode='factorized' for d > "
            f"{_MAX_EXACT_BITS}"
        )
    K = 1 << d
    ar = torch.arange(K, device=logits.device)
    bits = ((ar[:, None] >> torch.arange(d, device=logits.device)) & 1).to(logits.dtype)  # (K, d)
    lp_pos = F.logsigmoid(logits)
    lp_neg = F.logsigmoid(-logits)
    step = max(1, chunk_bytes // (K * logits.element_size()))
    acc = torch.zeros(K, dtype=logits.dtype, device=logits.device)
    for s in range(0, n, step):
        lp = lp_pos[s : s + step] @ bits.T + lp_neg[s : s + step] @ (1 - bits).T  # (c, K)
        acc = acc + lp.exp().sum(0)
    avg = _avg(acc / n)
    batch = -(avg * torch.log(avg.clamp_min(1e-30))).sum()
    return per_sample, batch


class _BinaryQuantizer(Quantizer):
    """Shared machinery of BSQ and LFQ: sign quantization, bit-packed indices, penalties."""

    _normalize: bool = True

    def __init__(
        self,
        code: str | int,
        *,
        entropy_weight: float = 0.1,
        diversity_gamma: float = 1.0,
        commitment_weight: float = 0.0,
        inv_temperature: float = 100.0,
        entropy_mode: str = "factorized",
        sync_batch_entropy: bool = False,
        nan_policy: str = "raise",
    ):
        super().__init__()
        d = _bits_of(code)
        if entropy_mode not in ENTROPY_MODES:
            raise ValueError(f"entropy_mode must be one of {ENTROPY_MODES}, got {entropy_mode!r}")
        if entropy_mode == "exact" and d > _MAX_EXACT_BITS:
            raise ValueError(
                f"entropy_mode='exact' needs d <= {_MAX_EXACT_BITS} (2^d codes), got d = {d}"
            )
        if nan_policy not in ("raise", "sentinel"):
            raise ValueError(f"nan_policy must be 'raise' or 'sentinel', got {nan_policy!r}")
        self.dim = d
        self.codebook_size = 1 << d
        self.entropy_weight = float(entropy_weight)
        self.diversity_gamma = float(diversity_gamma)
        self.commitment_weight = float(commitment_weight)
        self.inv_temperature = float(inv_temperature)
        self.entropy_mode = entropy_mode
        self.sync_batch_entropy = bool(sync_batch_entropy)
        self.nan_policy = nan_policy
        self.signs = SignSearch(d)  # bit i set <=> coordinate i negative, little-endian
        self.usage = CodeUsage(self.codebook_size)

    @property
    def code_name(self) -> str:
        return f"bsq-{self.dim}"

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        probe = fn(torch.zeros(0, dtype=torch.long, device=self.usage.counts.device))
        self.usage.counts = self.usage.counts.to(probe.device)
        return out

    def _scale(self) -> float:
        return 1.0 / math.sqrt(self.dim) if self._normalize else 1.0

    def _prepare(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not z.is_floating_point():
            raise TypeError(f"z must be a floating-point tensor, got {z.dtype}")
        if z.ndim == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"z must have last dimension {self.dim}, got {tuple(z.shape)}")
        cdt = torch.float64 if z.dtype == torch.float64 else torch.float32
        zf = z.to(cdt)
        finite = torch.isfinite(zf).all(-1)
        if self.nan_policy == "raise" and not _is_compiling() and not bool(finite.all()):
            raise ValueError(
                f"z holds {int((~torch.isfinite(zf)).sum())} non-finite value(s) in "
                f"{int((~finite).sum())} token(s); pass nan_policy='sentinel' to map them to -1"
            )
        zf = torch.where(finite[..., None], zf, torch.zeros_like(zf))
        u = F.normalize(zf, dim=-1, eps=1e-30) if self._normalize else zf
        return u, finite

    def bit_logits(self, u: torch.Tensor) -> torch.Tensor:
        """Log-odds of each bit being positive: ``(..., d)``.

        BSQ: ``q(c|u) ∝ exp(τ⟨c, u⟩)`` with ``c_i = ±1/√d`` gives ``2τu_i/√d``; LFQ:
        ``q(c|z) ∝ exp(−τ‖z − c‖²)`` with ``c_i = ±1`` gives ``4τz_i``.
        """
        if self._normalize:
            return 2.0 * self.inv_temperature * u / math.sqrt(self.dim)
        return 4.0 * self.inv_temperature * u

    def entropy_terms(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample entropy, batch entropy (nats) and commitment for ``z (..., d)``."""
        u, finite = self._prepare(z)
        flat = u.reshape(-1, self.dim)[finite.reshape(-1)]
        ps, be = binary_entropy_terms(
            self.bit_logits(flat), self.entropy_mode, sync=self.sync_batch_entropy
        )
        q = torch.where(flat < 0, -1.0, 1.0).to(flat.dtype) * self._scale()
        commit = ((flat - q) ** 2).sum(-1).mean() if flat.shape[0] else flat.sum()
        return {"per_sample_entropy": ps, "batch_entropy": be, "commitment": commit}

    def forward(self, z: torch.Tensor) -> QuantizerOutput:  # (..., d)
        u, finite = self._prepare(z)
        idx = self.signs(u.reshape(-1, self.dim).detach()).reshape(u.shape[:-1])
        idx = torch.where(finite, idx, torch.full_like(idx, -1))
        q = torch.where(u < 0, -1.0, 1.0).to(u.dtype) * self._scale()
        # zero vector: index 0 is the all-positive codeword, which sign(0) = +1 gives too
        codes = q + (u - u.detach())
        codes = torch.where(finite[..., None], codes, torch.zeros_like(codes))
        aux = torch.zeros((), dtype=u.dtype, device=u.device)
        if self.entropy_weight or self.commitment_weight:
            flat = u.reshape(-1, self.dim)
            w = finite.reshape(-1).to(u.dtype)
            if self.entropy_weight:
                ps, be = binary_entropy_terms(
                    self.bit_logits(flat[w > 0] if not _is_compiling() else flat),
                    self.entropy_mode,
                    sync=self.sync_batch_entropy,
                )
                aux = aux + self.entropy_weight * (ps - self.diversity_gamma * be)
            if self.commitment_weight:
                qd = q.reshape(-1, self.dim).detach()
                c = (((flat - qd) ** 2).sum(-1) * w).sum() / w.sum().clamp(min=1)
                aux = aux + self.commitment_weight * c
        if self.training:
            self.usage.update(idx)
        return QuantizerOutput(codes.to(z.dtype), idx, aux)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:  # (...) -> (..., d)
        if indices.is_floating_point() or indices.dtype == torch.bool:
            raise TypeError(f"indices must be an integer tensor, got {indices.dtype}")
        if not _is_compiling() and indices.numel():
            bad = (indices < 0) | (indices >= self.codebook_size)
            if bool(bad.any()):
                raise ValueError(
                    f"{int(bad.sum())} index(es) outside [0, {self.codebook_size}), e.g. "
                    f"{int(indices[bad].reshape(-1)[0])}"
                )
        return self.signs.signs(indices.long()) * self._scale()

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:  # (..., d) -> (...)
        if not codes.is_floating_point():
            raise TypeError(f"codes must be a floating-point tensor, got {codes.dtype}")
        if codes.shape[-1] != self.dim:
            raise ValueError(f"codes must have last dimension {self.dim}, got {codes.shape}")
        return self.signs(codes.reshape(-1, self.dim)).reshape(codes.shape[:-1])

    def config(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "code": self.dim,
            "entropy_weight": self.entropy_weight,
            "diversity_gamma": self.diversity_gamma,
            "commitment_weight": self.commitment_weight,
            "inv_temperature": self.inv_temperature,
            "entropy_mode": self.entropy_mode,
            "sync_batch_entropy": self.sync_batch_entropy,
            "nan_policy": self.nan_policy,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        kw = {k: v for k, v in config.items() if k not in ("type", "code")}
        return cls(config["code"], **kw)

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, entropy_weight={self.entropy_weight}, "
            f"diversity_gamma={self.diversity_gamma}, entropy_mode={self.entropy_mode!r}"
        )


def _bits_of(code: str | int) -> int:
    if isinstance(code, (int, np.integer)) and not isinstance(code, bool):
        d = int(code)
    elif isinstance(code, str) and code.startswith("bsq-") and code[4:].isdigit():
        d = int(code[4:])
    else:
        raise ValueError(f"binary quantizers take a bit count or 'bsq-<d>', got {code!r}")
    if not 1 <= d <= 62:
        raise ValueError(f"bit count must be in 1..62 (int64 indices), got {d}")
    return d


@register_quantizer("bsq", legacy="BSQQuantizer")
class BSQQuantizer(_BinaryQuantizer):
    """Binary Spherical Quantization with its entropy penalty.

    .. math::
        u = \\frac{z}{\\lVert z\\rVert}, \\quad
        \\hat u = \\frac{\\operatorname{sign}(u)}{\\sqrt d}, \\quad
        \\mathcal L_{\\mathrm{aux}} = \\lambda\\big(H_{\\mathrm{sample}}
        - \\gamma H_{\\mathrm{batch}}\\big)
        + \\beta \\lVert u - \\operatorname{sg}(\\hat u)\\rVert^2

    with soft assignments ``q(c|u) ∝ exp(τ⟨c, u⟩)`` that factorize over bits. The index packs
    bit ``i`` (set when ``u_i < 0``) at weight ``2^i``; ``sign(0) = +1``. Straight-through
    gradient to ``u``.

    Parameters
    ----------
    code : int or "bsq-<d>"
        Number of bits ``d``.
    entropy_weight, diversity_gamma, commitment_weight : float
        ``λ``, ``γ``, ``β``.
    inv_temperature : float
        ``τ``.
    entropy_mode : {"factorized", "exact"}
        Batch entropy by the per-bit approximation or exactly over ``2^d`` codes (``d ≤ 16``).
    sync_batch_entropy : bool
        Average batch probabilities over DDP ranks before taking their entropy.

    References
    ----------
    Y. Zhao, Y. Xiong, P. Krähenbühl, arXiv 2406.07548 (2024).
    """

    _normalize = True


@register_quantizer("lfq", legacy="LFQQuantizer")
class LFQQuantizer(_BinaryQuantizer):
    """Lookup-Free Quantization (MAGVIT-v2) with its entropy penalty.

    .. math::
        \\hat z = \\operatorname{sign}(z) \\in \\{\\pm 1\\}^d, \\quad
        \\mathcal L_{\\mathrm{aux}} = \\lambda\\big(H_{\\mathrm{sample}} - \\gamma
        H_{\\mathrm{batch}}\\big) + \\beta\\lVert z - \\operatorname{sg}(\\hat z)\\rVert^2

    with ``q(c|z) ∝ exp(−τ‖z − c‖²)``. No normalization: codes have norm ``√d``. Same index
    packing as :class:`BSQQuantizer`.

    References
    ----------
    L. Yu et al., "Language Model Beats Diffusion — Tokenizer is Key to Visual Generation",
    ICLR 2024.
    """

    _normalize = False

    def __init__(self, code: str | int, *, commitment_weight: float = 0.25, **kw):
        super().__init__(code, commitment_weight=commitment_weight, **kw)

    @property
    def code_name(self) -> str:
        return f"lfq-{self.dim}"


class _RandomCode:
    """A fixed random Gaussian spherical code built here (when the registry has none)."""

    def __init__(self, dim: int, size: int, seed: int):
        rng = np.random.default_rng(seed)
        p = rng.standard_normal((size, dim))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
        self.name = f"random-{dim}-{size}" + (f"-s{seed}" if seed else "")
        self.dim, self.size, self.points = dim, size, p
        self.int_points = None
        self.int_scale = None


@register_quantizer("random-projection", legacy="RandomProjectionQuantizer")
class RandomProjectionQuantizer(SphericalQuantizer):
    """Random-projection quantization: a fixed random Gaussian codebook on the sphere,
    searched exactly with the tiled matmul-argmax.

    .. math::
        c_k = \\frac{g_k}{\\lVert g_k\\rVert},\\ g_k \\sim \\mathcal N(0, I_d), \\qquad
        k^\\star = \\operatorname{arg\\,max}_k \\langle z / \\lVert z\\rVert, c_k\\rangle

    Same contract and straight-through gradient as :class:`SphericalQuantizer`; ``aux_loss``
    is zero. ``code`` is a registry name ``"random-<d>-<N>"`` (the registry's seed) or a
    ``(d, N)`` pair built here from ``seed``.

    References
    ----------
    C.-C. Chiu et al., "Self-supervised learning with random-projection quantizer for speech
    recognition" (BEST-RQ), ICML 2022; compared in arXiv 2512.14697.
    """

    def __init__(self, code: str | tuple[int, int] = "random-24-196560", *, seed: int = 0,
                 **kw):
        if isinstance(code, tuple):
            d, n = (int(v) for v in code)
            code = _RandomCode(d, n, seed)
        elif isinstance(code, str):
            parts = code.split("-")
            if len(parts) != 3 or parts[0] != "random" or not all(
                p.isdigit() for p in parts[1:]
            ):
                raise ValueError(
                    f"a random-projection code is named 'random-<d>-<N>', got {code!r}"
                )

            if not spherecodes_available():
                code = _RandomCode(int(parts[1]), int(parts[2]), seed)
        self._seed = int(seed)
        super().__init__(code, search_backend="tiled", **kw)

    def config(self) -> dict[str, Any]:
        c = super().config()
        c["seed"] = self._seed
        if isinstance(self.spec.code, _RandomCode):
            c["code"] = [self.dim, self.codebook_size]
        c.pop("search_backend", None)
        return c

    @classmethod
    def from_config(cls, config: dict[str, Any], code: Any = None) -> RandomProjectionQuantizer:
        name = config["code"]
        q = cls(tuple(name) if isinstance(name, list) else name, seed=config.get("seed", 0),
                nan_policy=config.get("nan_policy", "raise"),
                memory_budget_bytes=config.get("memory_budget_bytes", 64 * 2**20))
        _check_sha(str(name), config["code_sha256"], q.code_sha256)
        return q
