"""Sample images from a trained generator: ``lattiq sample`` (or ``main(argv)``).

Shape legend: ``B`` batch, ``K`` scales, ``h_k = w_k`` scale sides, ``d`` code dimension,
``C`` channels, ``S`` image side.

A generator checkpoint names the tokenizer it was trained with (and that tokenizer's
contract); sampling loads both, checks that they still agree, draws token indices scale by
scale with classifier-free guidance, top-k / top-p and temperature schedules, decodes them
with the tokenizer and writes ``grid.png`` and ``samples.npz`` (``images`` (N, S, S, C)
uint8, ``labels`` (N,), ``indices_<k>`` (N, h_k, w_k)).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lattiq.runtime.checkpoints import load_checkpoint
from lattiq.runtime.config import config_from_dict
from lattiq.runtime.directory import check_writable_dir
from lattiq.runtime.distributed import setup_distributed

from .var import VAR, VARConfig

__all__ = [
    "SampleSettings",
    "generate_images",
    "load_generator",
    "load_tokenizer_for",
    "main",
    "next_scale_fn",
    "parse_schedule",
    "run",
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
    from lattiq.progress import progress as progress_bar

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
    from .contract import check_contract, tokenizer_contract
    from .tokenizer import Tokenizer

    info = var_config.get("tokenizer") or {}
    path = override or info.get("path")
    if not path:
        raise ValueError("the generator checkpoint names no tokenizer; pass --tokenizer DIR")
    tok = Tokenizer.from_checkpoint(path, weights=info.get("weights", "ema"),
                                    map_location=map_location)
    check_contract(cfg, tokenizer_contract(tok), what=f"tokenizer at {path}")
    return tok.eval()


def parse_schedule(text: str | None, kind=float):
    """``"2"`` -> 2; ``"1,2,3"`` -> [1, 2, 3] (one value per scale)."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ValueError(f"empty value {text!r}")
    try:
        vals = [kind(p) for p in parts]
    except ValueError:
        raise ValueError(f"cannot read {text!r} as {kind.__name__}(s)") from None
    return vals[0] if len(vals) == 1 else vals


def class_labels(classes: str | None, per_class: int, num_classes: int) -> torch.Tensor:
    """Labels ``c`` repeated ``per_class`` times for each requested class, class-major."""
    if per_class < 1:
        raise ValueError(f"--per-class must be >= 1, got {per_class}")
    cls = list(range(num_classes)) if classes is None else parse_schedule(classes, int)
    cls = cls if isinstance(cls, list) else [cls]
    for c in cls:
        if not 0 <= c < num_classes:
            raise ValueError(f"class {c} is out of range: the generator has {num_classes} "
                             f"classes (0..{num_classes - 1})")
    return torch.tensor(cls, dtype=torch.long).repeat_interleave(per_class)


def main(argv: list[str] | None = None) -> int:
    from .var_cli import build_sample_parser

    return run(build_sample_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    check_writable_dir(args.out)  # before sampling, not after
    device = setup_distributed(args.device).device
    model, saved = load_generator(args.checkpoint, args.weights)
    model = model.to(device)
    tok = load_tokenizer_for(saved, model.cfg, args.tokenizer).to(device)
    settings = SampleSettings(
        guidance=parse_schedule(args.guidance), guidance_kind=args.guidance_schedule,
        top_k=parse_schedule(args.top_k, int), top_p=parse_schedule(args.top_p),
        temperature=parse_schedule(args.temperature),
    )  # fmt: skip
    labels = class_labels(args.classes, args.per_class, model.cfg.num_classes)
    images, indices = generate_images(model, tok, labels, settings, seed=args.seed,
                                      batch_size=args.batch_size,
                                      progress=not getattr(args, "no_progress", False))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from lattiq.evaluation.figures import save_sample_grid

    data = ((saved.get("config") or {}).get("data") or {}).get("dataset")
    sets = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in settings.as_kwargs().items())
    save_sample_grid(out / "grid.png", images, labels, dataset=data,
                     nrow=args.nrow or args.per_class, caption=f"{sets}, seed {args.seed}")
    u8 = ((images.permute(0, 2, 3, 1).numpy() + 1.0) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)
    arrays = {"images": u8, "labels": labels.numpy()}
    arrays.update({f"indices_{k}": t.numpy() for k, t in enumerate(indices)})
    tmp = out / ".samples.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(out / "samples.npz")
    summary = {"images": int(labels.numel()), "out": str(out), "seed": args.seed,
               **{k: v for k, v in settings.as_kwargs().items()}}
    (out / "sample.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {labels.numel()} samples to {out / 'grid.png'} and "
              f"{out / 'samples.npz'}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
