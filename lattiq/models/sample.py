"""Sampling from a trained generator: images drawn scale by scale and decoded by its
tokenizer.

Shape legend: ``B`` batch, ``K`` scales, ``h_k = w_k`` scale sides, ``d`` code dimension,
``C`` channels, ``S`` image side.

A generator checkpoint names the tokenizer it was trained with (and that tokenizer's
contract); sampling loads both, checks that they still agree, draws token indices scale by
scale with classifier-free guidance, top-k / top-p and temperature schedules, decodes them
with the tokenizer. ``lattiq sample`` (:mod:`lattiq.evaluation.sample_images`) writes what
it draws to a folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from lattiq.progress import progress as progress_bar
from lattiq.runtime.checkpoints import load_checkpoint
from lattiq.runtime.config import config_from_dict

from .contract import check_contract, tokenizer_contract
from .tokenizer import Tokenizer
from .var import VAR, VARConfig

__all__ = [
    "SampleSettings",
    "class_labels",
    "generate_images",
    "load_generator",
    "load_tokenizer_for",
    "next_scale_fn",
]


@dataclass
class SampleSettings:
    """Sampling knobs; scalars apply to every scale, lists give one value per scale."""

    guidance: float | list[float] = 1.5
    guidance_kind: str = "linear"
    top_k: int | list[int] = 0
    top_p: float | list[float] = 1.0
    temperature: float | list[float] = 1.0
    extra: dict = field(default_factory=dict)

    def as_kwargs(self) -> dict:
        return dict(guidance=self.guidance, guidance_kind=self.guidance_kind,
                    top_k=self.top_k, top_p=self.top_p, temperature=self.temperature)


def next_scale_fn(quantizer):
    """Adapter: ``indices[0..k] -> (B, h_{k+1}, w_{k+1}, d)`` from the quantizer contract.

    ``MultiScaleQuantizer.next_scale_inputs`` returns all ``K - 1`` teacher-forcing inputs;
    input ``k + 1`` depends only on scales ``0..k``, so the scales not generated yet are
    filled with index 0 and only entry ``k`` is used.
    """
    sides = list(quantizer.scale_schedule)

    def f(indices: list[torch.Tensor]) -> torch.Tensor:
        k = len(indices)
        B, dev = indices[0].shape[0], indices[0].device
        pad = [torch.zeros(B, s, s, dtype=torch.long, device=dev) for s in sides[k:-1]]
        return quantizer.next_scale_inputs(list(indices)[: len(sides) - 1] + pad)[k - 1]

    return f


@torch.no_grad()
def generate_images(
    model: VAR,
    tokenizer,
    labels: torch.Tensor,
    settings: SampleSettings,
    *,
    seed: int = 0,
    batch_size: int = 64,
    decode: bool = True,
    progress: bool = False,
    desc: str = "sampling",
) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
    """Generate ``len(labels)`` images: (B, C, S, S) in ``[-1, 1]`` and per-scale indices.

    The draws are a function of ``seed`` and the batch split (one generator for the run).
    With ``progress``, a bar on stderr counts the sampled tokens, scale by scale (plain
    lines when stderr is not a terminal; :mod:`lattiq.progress`).
    """
    model.eval()
    dev = next(model.parameters()).device
    g = torch.Generator(device=dev).manual_seed(int(seed))
    step = next_scale_fn(tokenizer.quantizer)
    seq_len = sum(int(h) * int(w) for h, w in model.cfg.scales)
    bar = progress_bar(int(labels.shape[0]) * seq_len, desc=desc, unit="tokens",
                       enabled=progress, leave=False)  # fmt: skip
    done = [0]

    def nxt(indices: list[torch.Tensor]) -> torch.Tensor:
        bar.update(indices[-1].numel())  # scale k is sampled
        done[0] += indices[-1].numel()
        return step(indices)

    images, idx_all = [], None
    with bar:
        for s in range(0, labels.shape[0], batch_size):
            lab = labels[s : s + batch_size].to(dev)
            done[0] = 0
            idx = model.generate(lab, nxt, generator=g, **settings.as_kwargs())
            bar.update(lab.shape[0] * seq_len - done[0])  # the last scale
            if idx_all is None:
                idx_all = [[] for _ in idx]
            for k, t in enumerate(idx):
                idx_all[k].append(t.cpu())
            if decode:
                images.append(tokenizer.decode_indices(idx).float().clamp(-1, 1).cpu())
    indices = [torch.cat(t) for t in idx_all]
    return (torch.cat(images) if decode else None), indices


def load_generator(path: str, weights: str = "ema", map_location="cpu") -> tuple[VAR, dict]:
    """Rebuild a :class:`VAR` from a training checkpoint; returns ``(model, saved_config)``."""
    ck = load_checkpoint(path, with_state=False, map_location=map_location)
    if "var" not in ck.config:
        raise ValueError(f"{ck.path} is not a generator checkpoint (no 'var' config)")
    cfg = config_from_dict(VARConfig, ck.config["var"])
    model = VAR(cfg)
    if weights not in ck.weights:
        raise ValueError(f"{ck.path} has no {weights!r} weights; it has {sorted(ck.weights)}")
    sd = ck.weights[weights]
    own = model.state_dict()
    missing, extra = sorted(set(own) - set(sd)), sorted(set(sd) - set(own))
    if missing or extra:
        raise ValueError(f"weights in {ck.path} do not fit the saved config: missing "
                         f"{missing[:6]}, unexpected {extra[:6]}")
    model.load_state_dict(sd)
    return model.eval(), ck.config


def load_tokenizer_for(var_config: dict, cfg: VARConfig, override: str | None = None,
                       map_location="cpu"):
    """The tokenizer a generator checkpoint names (or ``override``), checked against it."""
    info = var_config.get("tokenizer") or {}
    path = override or info.get("path")
    if not path:
        raise ValueError("the generator checkpoint names no tokenizer; pass --tokenizer DIR")
    tok = Tokenizer.from_checkpoint(path, weights=info.get("weights", "ema"),
                                    map_location=map_location)
    check_contract(cfg, tokenizer_contract(tok), what=f"tokenizer at {path}")
    return tok.eval()


def class_labels(classes: Sequence[int] | None, per_class: int, num_classes: int) -> torch.Tensor:
    """Labels ``c`` repeated ``per_class`` times for each class of ``classes`` (default: all),
    class-major."""
    if per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {per_class}")
    cls = list(range(num_classes)) if classes is None else [int(c) for c in classes]
    for c in cls:
        if not 0 <= c < num_classes:
            raise ValueError(f"class {c} is out of range: the generator has {num_classes} "
                             f"classes (0..{num_classes - 1})")
    return torch.tensor(cls, dtype=torch.long).repeat_interleave(per_class)
