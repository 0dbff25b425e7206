"""VAR: class-conditional next-scale prediction over a fixed codebook (Tian et al. 2024).

Shape legend: ``B`` batch, ``K`` scales, ``l_k = h_k w_k`` tokens of scale ``k``,
``L = Σ_k l_k`` tokens in all, ``D`` width, ``d`` code dimension, ``V`` codebook size,
``nH`` heads, ``Dh = D / nH``.

The sequence is the concatenation of the scales, coarse to fine. Scale 0 is predicted from a
start token (class embedding + learned start positions); scale ``k > 0`` from the
teacher-forcing input of scale ``k`` — the code vectors of scales ``< k`` summed at full
resolution and resized to ``h_k × w_k``, as the multi-scale quantizer's
``next_scale_inputs`` gives them. Attention is block-causal: a token of scale ``k`` sees all
tokens of scales ``≤ k``, so every token of a scale is predicted in parallel, and sampling
with a KV cache (feed scale ``k``, keep its keys and values) equals full recomputation.

The generator meets the tokenizer only through the quantizer contract: code dimension,
codebook size and an explicit scale schedule in :class:`VARConfig`, and a
``next_scale_input(indices)`` callable at sampling time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from lattiq.lattices.leech_layout import SHELL_SIZE

from .chunked_ce import CEOutput
from .heads import HEADS, make_head

__all__ = [
    "KVCache",
    "NonFiniteLogitsError",
    "VAR",
    "VARConfig",
    "VAR_PRESETS",
    "guidance_schedule",
    "per_scale",
    "var_preset",
]

#: Most parameters a ``full`` softmax head may have (16 GiB in float32): above it, building
#: the model is refused with the size instead of failing inside torch.
FULL_HEAD_LIMIT = 1 << 32


@dataclass
class VARConfig:
    """Generator hyperparameters; saved with every checkpoint and enough to rebuild the model.

    Attributes
    ----------
    depth, width, heads : int
        Transformer blocks, model width ``D`` and attention heads.
    mlp_ratio : float
    num_classes : int
        Classes; label ``num_classes`` is the class-drop ("null") label.
    code : str
        Registry name of the tokenizer's code (``"leech"``, ``"bsq-18"``, ...); checked
        against the tokenizer checkpoint.
    code_dim : int
        ``d``, the dimension of the code vectors entering as teacher-forcing input.
    codebook_size : int
        ``V``.
    scales : list of [h, w] (or side lengths s, meaning [s, s])
        The scale schedule, coarse to fine.
    head : {"full", "dit", "bits"}
    class_drop : float
        Probability of replacing a training label with the null label (for guidance).
    dropout : float
    qk_norm : bool
        RMS-normalize queries and keys per head (stabilizes attention logits).
    z_loss : float
        Z-loss weight of the full-softmax head.
    ce_chunk : int
        Tokens per chunk of the chunked cross-entropy.
    """

    depth: int = 2
    width: int = 64
    heads: int = 2
    mlp_ratio: float = 4.0
    num_classes: int = 10
    code: str = "leech"
    code_dim: int = 24
    codebook_size: int = SHELL_SIZE
    scales: list[list[int] | int] = field(
        default_factory=lambda: [[1, 1], [2, 2], [3, 3], [4, 4]]
    )
    head: str = "full"
    class_drop: float = 0.1
    dropout: float = 0.0
    qk_norm: bool = True
    z_loss: float = 1e-4
    ce_chunk: int = 2048

    def __post_init__(self):
        self.scales = [
            list(s) if isinstance(s, (list, tuple)) else [int(s), int(s)] for s in self.scales
        ]
        problems = []
        if self.depth < 1 or self.width < 1 or self.heads < 1:
            problems.append(
                f"depth, width, heads must be >= 1 (got {self.depth}, {self.width}, {self.heads})"
            )
        elif self.width % self.heads:
            problems.append(f"width {self.width} must be a multiple of heads {self.heads}")
        if self.num_classes < 1:
            problems.append(f"num_classes must be >= 1, got {self.num_classes}")
        if not self.scales or any(len(s) != 2 or min(s) < 1 for s in self.scales):
            problems.append(f"scales must be a non-empty list of [h, w] >= 1, got {self.scales}")
        if self.head not in HEADS:
            problems.append(f"head must be one of {HEADS}, got {self.head!r}")
        if not 0.0 <= self.class_drop < 1.0:
            problems.append(f"class_drop must be in [0, 1), got {self.class_drop}")
        if self.codebook_size < 2 or self.code_dim < 1:
            problems.append("codebook_size must be >= 2 and code_dim >= 1")
        if problems:
            raise ValueError("invalid VARConfig: " + "; ".join(problems))

    def check_head(self) -> None:
        """Raise ``ValueError`` if the head does not fit the code (checked when a model is
        built, so that ``--match-tokenizer`` can fill the code fields first)."""
        problems = []
        if self.head == "dit" and (self.code != "leech" or self.codebook_size != SHELL_SIZE):
            problems.append(f"head 'dit' is the Leech head (code 'leech', 196560 codewords); "
                            f"got code {self.code!r} with {self.codebook_size}")
        elif self.head == "bits" and not (
            self.code.startswith("bsq-") and self.code[4:].isdigit()
            and self.codebook_size == 2 ** int(self.code[4:])
        ):
            problems.append(f"head 'bits' is the BSQ head (code 'bsq-<d>', 2^d codewords); "
                            f"got code {self.code!r} with {self.codebook_size}")
        elif self.head == "full" and self.codebook_size * (self.width + 1) > FULL_HEAD_LIMIT:
            n = self.codebook_size * (self.width + 1)
            problems.append(
                f"a full softmax head over {self.codebook_size:.3g} codes at width {self.width} "
                f"needs {n:.3g} parameters ({4 * n / 2**30:.3g} GiB in float32; the limit is "
                f"{FULL_HEAD_LIMIT:.3g}): use head 'bits' for a bsq code or 'dit' for leech")
        if problems:
            raise ValueError("invalid VARConfig: " + "; ".join(problems))

    @property
    def tokens_per_scale(self) -> list[int]:
        return [h * w for h, w in self.scales]

    @property
    def seq_len(self) -> int:
        return sum(self.tokens_per_scale)


#: Presets: ``tiny`` for CPU tests, ``small`` for CPU experiments, ``d<depth>`` the VAR family
#: (width 64·depth, heads = depth; ``d12`` is the paper's smallest, 12 × 768).
VAR_PRESETS: dict[str, dict] = {
    "tiny": dict(depth=2, width=64, heads=2),
    "small": dict(depth=6, width=256, heads=4),
    "d12": dict(depth=12, width=768, heads=12),
    "d16": dict(depth=16, width=1024, heads=16),
    "d20": dict(depth=20, width=1280, heads=20),
    "d24": dict(depth=24, width=1536, heads=24),
    "d30": dict(depth=30, width=1920, heads=30),
}


def var_preset(name: str, **overrides) -> VARConfig:
    """A :class:`VARConfig` from a preset name, with field overrides."""
    if name not in VAR_PRESETS:
        raise ValueError(f"unknown VAR preset {name!r}; choose one of {sorted(VAR_PRESETS)}")
    return VARConfig(**{**VAR_PRESETS[name], **overrides})


class NonFiniteLogitsError(ValueError):
    """Sampling met NaN or infinite logits; ``scale`` says at which scale (0-based)."""

    def __init__(self, scale: int, shape: Sequence[int]):
        self.scale = scale
        super().__init__(
            f"non-finite logits at scale {scale} ({shape[0]}x{shape[1]} tokens): the model "
            "weights or the guidance / temperature settings produce NaN or inf; check the "
            "checkpoint (training diverged?) and use a finite guidance and temperature > 0"
        )


# ---------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------


class KVCache:
    """Keys and values of the tokens fed so far: per block one ``(k, v)``, (B, nH, L', Dh)."""

    def __init__(self, depth: int):
        self.layers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * depth

    def extend(self, i: int, k: torch.Tensor, v: torch.Tensor):
        old = self.layers[i]
        if old is not None:
            k = torch.cat([old[0], k], dim=2)
            v = torch.cat([old[1], v], dim=2)
        self.layers[i] = (k, v)
        return k, v

    @property
    def length(self) -> int:
        return 0 if self.layers[0] is None else self.layers[0][0].shape[2]


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, qk_norm: bool, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        dh = width // heads
        self.q_norm = nn.RMSNorm(dh) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(dh) if qk_norm else nn.Identity()

    def forward(self, x_BLD, mask_LL=None, cache: KVCache | None = None, layer: int = 0):
        B, L, D = x_BLD.shape
        q, k, v = self.qkv(x_BLD).view(B, L, 3, self.heads, D // self.heads).unbind(2)
        q, k = self.q_norm(q).transpose(1, 2), self.k_norm(k).transpose(1, 2)  # (B, nH, L, Dh)
        v = v.transpose(1, 2)
        if cache is not None:
            k, v = cache.extend(layer, k, v)  # new tokens see every cached one: no mask
        p = self.dropout if self.training else 0.0
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask_LL, dropout_p=p)
        return self.proj(o.transpose(1, 2).reshape(B, L, D))


class AdaLNBlock(nn.Module):
    r"""Pre-norm transformer block with adaptive layer norm from the class condition.

    .. math::
        x \leftarrow x + g_1 \odot \mathrm{Attn}\big(\mathrm{LN}(x)(1+s_1) + b_1\big),\quad
        x \leftarrow x + g_2 \odot \mathrm{MLP}\big(\mathrm{LN}(x)(1+s_2) + b_2\big),

    with :math:`(g_1, s_1, b_1, g_2, s_2, b_2)` a linear function of the condition, zero at
    initialization (adaLN-Zero; Peebles & Xie 2023, "Scalable diffusion models with
    transformers").
    """

    def __init__(self, width: int, heads: int, mlp_ratio: float, qk_norm: bool, dropout: float):
        super().__init__()
        self.ln1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.ln2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(width, heads, qk_norm, dropout)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden),
            nn.GELU(approximate="tanh"),
            nn.Linear(hidden, width),
            nn.Dropout(dropout),
        )
        self.ada = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x_BLD, cond_BD, mask_LL=None, cache=None, layer=0):
        g1, s1, b1, g2, s2, b2 = self.ada(F.silu(cond_BD))[:, None].chunk(6, dim=-1)
        x_BLD = x_BLD + g1 * self.attn(self.ln1(x_BLD) * (1 + s1) + b1, mask_LL, cache, layer)
        return x_BLD + g2 * self.mlp(self.ln2(x_BLD) * (1 + s2) + b2)


# ---------------------------------------------------------------------------------------------
# Schedules for sampling
# ---------------------------------------------------------------------------------------------


def per_scale(value, K: int, name: str) -> list:
    """A scalar repeated ``K`` times, or a list of length ``K`` given per scale."""
    if isinstance(value, (list, tuple)):
        if len(value) != K:
            raise ValueError(
                f"{name} per-scale list has {len(value)} entries; the schedule has {K} scales"
            )
        return list(value)
    return [value] * K


def guidance_schedule(guidance: float | Sequence[float], K: int, kind: str = "linear"):
    r"""Per-scale guidance weights :math:`w_k`.

    ``"linear"`` (the "layerwise" schedule, default) ramps from no guidance at the first scale
    to ``guidance`` at the last,

    .. math:: w_k = 1 + (w - 1)\,\frac{k}{K-1},

    ``"constant"`` uses ``w`` at every scale; a list gives ``w_k`` directly. ``w = 1`` is
    plain conditional sampling, ``w = 0`` unconditional.
    """
    if isinstance(guidance, (list, tuple)):
        ws = per_scale(list(guidance), K, "guidance")
    elif kind == "constant":
        ws = [float(guidance)] * K
    elif kind == "linear":
        ws = [1.0 + (float(guidance) - 1.0) * (k / (K - 1) if K > 1 else 1.0) for k in range(K)]
    else:
        raise ValueError(f"guidance schedule must be 'linear' or 'constant', got {kind!r}")
    for w in ws:
        if not (math.isfinite(w) and 0.0 <= w <= 100.0):
            raise ValueError(f"guidance must be a finite number in [0, 100], got {w}")
    return ws


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


class VAR(nn.Module):
    r"""Class-conditional next-scale prediction transformer.

    .. math::
        p(r_1, \dots, r_K \mid y) = \prod_{k=1}^{K} p(r_k \mid r_{<k}, y),

    each factor a product over the ``h_k × w_k`` tokens of scale ``k`` given by the head
    (Tian et al. 2024, "Visual autoregressive modeling: scalable image generation via
    next-scale prediction", NeurIPS).

    Parameters
    ----------
    cfg : VARConfig
    """

    def __init__(self, cfg: VARConfig):
        super().__init__()
        cfg.check_head()
        self.cfg = cfg
        D, K = cfg.width, len(cfg.scales)
        ls = cfg.tokens_per_scale
        self.class_embed = nn.Embedding(cfg.num_classes + 1, D)
        self.start_embed = nn.Parameter(torch.zeros(1, ls[0], D))
        self.word_embed = nn.Linear(cfg.code_dim, D)
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.seq_len, D))
        self.level_embed = nn.Embedding(K, D)
        for p in (
            self.start_embed,
            self.pos_embed,
            self.class_embed.weight,
            self.level_embed.weight,
        ):
            nn.init.trunc_normal_(p, std=0.02)
        self.blocks = nn.ModuleList(
            AdaLNBlock(D, cfg.heads, cfg.mlp_ratio, cfg.qk_norm, cfg.dropout)
            for _ in range(cfg.depth)
        )
        self.final_norm = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(D, 2 * D)
        nn.init.zeros_(self.final_ada.weight)
        nn.init.zeros_(self.final_ada.bias)
        self.head = make_head(cfg.head, D, cfg.codebook_size, cfg.z_loss, cfg.ce_chunk)
        level = torch.cat([torch.full((n,), k) for k, n in enumerate(ls)])
        self.register_buffer("level_L", level, persistent=False)
        self.register_buffer("mask_LL", level[None, :] <= level[:, None], persistent=False)
        self._offsets = [0]
        for n in ls:
            self._offsets.append(self._offsets[-1] + n)

    # -- inputs ------------------------------------------------------------------------------

    def check_labels(self, labels_B: torch.Tensor, allow_null: bool = True) -> None:
        """Raise ``ValueError`` unless labels are integers in ``[0, num_classes]``."""
        if not isinstance(labels_B, torch.Tensor) or labels_B.dtype not in (
            torch.int64,
            torch.int32,
        ):
            raise TypeError("class labels must be an int64 tensor of shape (B,)")
        hi = self.cfg.num_classes + (1 if allow_null else 0)
        if labels_B.dim() != 1:
            raise ValueError(f"class labels must have shape (B,), got {tuple(labels_B.shape)}")
        bad = (labels_B < 0) | (labels_B >= hi)
        if bool(bad.any()):
            raise ValueError(
                f"class label {int(labels_B[bad][0])} is out of range: this generator has "
                f"{self.cfg.num_classes} classes (0..{self.cfg.num_classes - 1}"
                + (f"; {self.cfg.num_classes} is the null label)" if allow_null else ")")
            )

    def drop_labels(self, labels_B: torch.Tensor, generator=None) -> torch.Tensor:
        """Replace each label by the null label with probability ``cfg.class_drop``."""
        if self.cfg.class_drop <= 0:
            return labels_B
        u = torch.rand(labels_B.shape, generator=generator, device="cpu").to(labels_B.device)
        return torch.where(u < self.cfg.class_drop, self.cfg.num_classes, labels_B)

    def _flatten_inputs(self, inputs, B: int) -> torch.Tensor:
        """list of (B, h_k, w_k, d) for k = 1..K-1, or (B, L - l_0, d) -> (B, L - l_0, d)."""
        want = self.cfg.seq_len - self.cfg.tokens_per_scale[0]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != len(self.cfg.scales) - 1:
                raise ValueError(
                    f"expected {len(self.cfg.scales) - 1} teacher-forcing inputs "
                    f"(scales 1..K-1), got {len(inputs)}"
                )
            for k, x in enumerate(inputs, start=1):
                if tuple(x.shape[1:3]) != tuple(self.cfg.scales[k]):
                    raise ValueError(
                        f"input of scale {k} is {tuple(x.shape[1:3])}, the "
                        f"schedule says {tuple(self.cfg.scales[k])}"
                    )
            inputs = (
                torch.cat([x.reshape(B, -1, x.shape[-1]) for x in inputs], 1)
                if inputs
                else torch.zeros(B, 0, self.cfg.code_dim, device=self.pos_embed.device)
            )
        if inputs.shape != (B, want, self.cfg.code_dim):
            raise ValueError(
                f"teacher-forcing input must be (B, {want}, {self.cfg.code_dim}), "
                f"got {tuple(inputs.shape)}"
            )
        return inputs

    @torch.no_grad()
    def embedding_norms(self, inputs) -> dict[str, float]:
        """Mean per-token norms of the two terms summed at the trunk's input, for the
        teacher-forcing tokens (scales 1..K-1): ``content`` = ``word_embed(x)``, ``position``
        = position + level embedding, and their ``ratio`` (content / position). A ratio far
        below 1 means the model sees mostly where a token is, not what it is (the defect
        that collapsed the tokenizers, see docs/tokenizer.md); logged by ``train-var``."""
        x = inputs
        if isinstance(inputs, (list, tuple)):
            B = inputs[0].shape[0] if inputs else 1
            x = self._flatten_inputs(inputs, B)
        l0 = self.cfg.tokens_per_scale[0]
        content = self.word_embed(x.to(self.pos_embed.dtype)).norm(dim=-1).mean()
        pos = self.pos_embed[0, l0:] + self.level_embed(self.level_L[l0:])
        p = pos.norm(dim=-1).mean()
        return {"content": float(content), "position": float(p), "ratio": float(content / p)}

    def _embed(self, k: int, x_BlD: torch.Tensor) -> torch.Tensor:
        s, e = self._offsets[k], self._offsets[k + 1]
        return x_BlD + self.pos_embed[:, s:e] + self.level_embed.weight[k]

    def _trunk(self, x_BLD, cond_BD, mask=None, cache=None):
        for i, blk in enumerate(self.blocks):
            x_BLD = blk(x_BLD, cond_BD, mask, cache, i)
        s, b = self.final_ada(F.silu(cond_BD))[:, None].chunk(2, dim=-1)
        return self.final_norm(x_BLD) * (1 + s) + b

    # -- training ----------------------------------------------------------------------------

    def forward(self, labels_B: torch.Tensor, inputs) -> torch.Tensor:
        """Hidden states entering the head, (B, L, D), for all scales in one pass.

        Parameters
        ----------
        labels_B : LongTensor (B,)
            Classes in ``[0, num_classes]`` (``num_classes`` = null).
        inputs : list of Tensor (B, h_k, w_k, d), k = 1..K-1, or Tensor (B, L - l_0, d)
            Teacher-forcing inputs (``MultiScaleQuantizer.next_scale_inputs``).
        """
        self.check_labels(labels_B)
        B = labels_B.shape[0]
        x = self._flatten_inputs(inputs, B)
        cond_BD = self.class_embed(labels_B)
        sos = self.start_embed.expand(B, -1, -1) + cond_BD[:, None]
        x_BLD = torch.cat([sos, self.word_embed(x.to(self.pos_embed.dtype))], dim=1)
        x_BLD = x_BLD + self.pos_embed + self.level_embed(self.level_L)
        return self._trunk(x_BLD, cond_BD, self.mask_LL)

    def loss(self, labels_B, inputs, targets) -> CEOutput:
        """Head loss of the targets (list of (B, h_k, w_k) indices, k = 0..K-1, or (B, L))."""
        B = labels_B.shape[0]
        if isinstance(targets, (list, tuple)):
            targets = torch.cat([t.reshape(B, -1) for t in targets], dim=1)
        if targets.shape != (B, self.cfg.seq_len):
            raise ValueError(f"targets must be (B, {self.cfg.seq_len}), got {tuple(targets.shape)}")
        h_BLD = self(labels_B, inputs)
        return self.head.loss(h_BLD.reshape(-1, h_BLD.shape[-1]), targets.reshape(-1))

    # -- scale-by-scale evaluation ------------------------------------------------------------

    @torch.no_grad()
    def next_scale_hidden(self, k: int, cond_BD: torch.Tensor, scale_input: torch.Tensor | None,
                          cache: KVCache) -> torch.Tensor:
        """Hidden states (B, l_k, D) of scale ``k``, given scales ``< k`` held in ``cache``.

        The incremental step of :meth:`generate` without guidance: ``cond_BD`` is
        ``class_embed(labels)``, ``scale_input`` scale ``k``'s teacher-forcing input
        (B, h_k, w_k, d) (``None`` for ``k = 0``). Scale ``k``'s keys and values are appended
        to ``cache``. The head turns the result into the model's probabilities of scale ``k``
        (what an entropy coder needs, token scale by token scale).
        """
        if k == 0:
            x = self.start_embed.expand(cond_BD.shape[0], -1, -1) + cond_BD[:, None]
        else:
            if scale_input is None:
                raise ValueError(f"scale {k} needs its teacher-forcing input")
            x = scale_input.reshape(scale_input.shape[0], -1, scale_input.shape[-1])
            x = self.word_embed(x.to(self.pos_embed.dtype))
        return self._trunk(self._embed(k, x), cond_BD, None, cache)

    # -- sampling ----------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        labels_B: torch.Tensor,
        next_scale_input: Callable[[list[torch.Tensor]], torch.Tensor],
        *,
        guidance: float | Sequence[float] = 1.0,
        guidance_kind: str = "linear",
        top_k: int | Sequence[int] = 0,
        top_p: float | Sequence[float] = 1.0,
        temperature: float | Sequence[float] = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> list[torch.Tensor]:
        r"""Sample token indices for every scale, coarse to fine.

        Classifier-free guidance (Ho & Salimans 2022) mixes the head's log-probabilities,
        :math:`\log p_u + w_k(\log p_c - \log p_u)`, per scale (:func:`guidance_schedule`).

        Parameters
        ----------
        labels_B : LongTensor (B,)
            Classes in ``[0, num_classes)``.
        next_scale_input : callable
            ``indices[0..k] -> (B, h_{k+1}, w_{k+1}, d)``, the teacher-forcing input of the
            next scale (from the tokenizer's multi-scale quantizer).
        guidance, guidance_kind
            See :func:`guidance_schedule`.
        top_k, top_p, temperature
            Scalars or per-scale lists; ``top_k = 0`` and ``top_p = 1`` disable the filters.
        generator : torch.Generator, optional
            Source of randomness (the sampling is deterministic given it).
        use_cache : bool
            Feed one scale at a time with a KV cache (default) or recompute the whole
            prefix at every scale (the reference the tests compare against).

        Returns
        -------
        list of LongTensor (B, h_k, w_k)
        """
        cfg = self.cfg
        K = len(cfg.scales)
        self.check_labels(labels_B, allow_null=False)
        ws = guidance_schedule(guidance, K, guidance_kind)
        ks = per_scale(top_k, K, "top_k")
        ps = per_scale(top_p, K, "top_p")
        ts = per_scale(temperature, K, "temperature")
        for k_ in ks:
            if not isinstance(k_, int) or k_ < 0 or k_ > cfg.codebook_size:
                raise ValueError(
                    f"top_k must be an integer in [0, {cfg.codebook_size}] "
                    f"(0 disables it), got {k_!r}"
                )
        for p_ in ps:
            if not (0.0 < p_ <= 1.0):
                raise ValueError(f"top_p must be in (0, 1] (1 disables it), got {p_!r}")
        for t_ in ts:
            if not (math.isfinite(t_) and t_ >= 0.0):
                raise ValueError(f"temperature must be a finite number >= 0, got {t_!r}")
        B = labels_B.shape[0]
        guided = any(w != 1.0 for w in ws)
        labels = labels_B
        if guided:
            labels = torch.cat([labels_B, torch.full_like(labels_B, cfg.num_classes)])
        cond_BD = self.class_embed(labels)
        cache = KVCache(cfg.depth) if use_cache else None
        prefix: list[torch.Tensor] = []
        indices: list[torch.Tensor] = []
        nxt = None
        for k, (h, w) in enumerate(cfg.scales):
            if k == 0:
                x = self.start_embed.expand(labels.shape[0], -1, -1) + cond_BD[:, None]
            else:
                x = self.word_embed(
                    nxt.reshape(nxt.shape[0], -1, nxt.shape[-1]).to(self.pos_embed.dtype)
                )
                if guided:
                    x = torch.cat([x, x])
            x = self._embed(k, x)
            if use_cache:
                hid = self._trunk(x, cond_BD, None, cache)
            else:
                prefix.append(x)
                e = self._offsets[k + 1]
                hid = self._trunk(torch.cat(prefix, 1), cond_BD, self.mask_LL[:e, :e])
                hid = hid[:, self._offsets[k] :]
            hid = hid.reshape(-1, hid.shape[-1])
            n = B * h * w
            h_c, h_u = (hid[:n], hid[n:]) if guided else (hid, None)
            idx, finite = self.head.sample(h_c, h_u, ws[k], ts[k], ks[k], ps[k], generator)
            if not finite:
                raise NonFiniteLogitsError(k, (h, w))
            indices.append(idx.view(B, h, w))
            if k + 1 < K:
                nxt = next_scale_input(indices)
                want = (B, *cfg.scales[k + 1], cfg.code_dim)
                if tuple(nxt.shape) != want:
                    raise ValueError(
                        f"next_scale_input returned {tuple(nxt.shape)} after "
                        f"scale {k}; expected {want}"
                    )
        return indices
