"""Train the generator: ``lattiq train-var`` (or ``main(argv)`` from Python).

Reads top to bottom: config -> distributed set-up -> tokenizer and its contract -> (resume)
-> data (token cache) -> model -> optimizer -> loop. Runs single-process or under
``torchrun --nproc_per_node N`` (DDP; gloo on CPU, nccl on GPU). The data a step sees are a
function of ``(seed, step, rank)``, the learning-rate multiplier a function of the step, and
checkpoints keep the optimizer state (Dion's momentum and right factors included) and every
rank's RNG state (class-label dropping), so ``--resume`` continues a run exactly.

Shape legend: ``B`` batch, ``K`` scales, ``h_k = w_k`` scale sides, ``d`` code dimension.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from lattiq.data import StepBatchSampler
from lattiq.evaluation.figures import save_sample_grid, write_training_curves
from lattiq.models.contract import check_contract, tokenizer_contract
from lattiq.models.sample import SampleSettings, generate_images
from lattiq.models.tokenizer import Tokenizer
from lattiq.models.var import VAR, VAR_PRESETS, VARConfig, var_preset
from lattiq.runtime.checkpoints import (
    estimate_checkpoint_bytes,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from lattiq.runtime.config import config_to_dict, save_config
from lattiq.runtime.directory import open_run_dir
from lattiq.runtime.distributed import all_reduce_mean, cleanup_distributed, setup_distributed
from lattiq.runtime.resume import resume_check, run_config
from lattiq.runtime.rng import seed_everything, set_rng_state
from lattiq.training.ema import EMA
from lattiq.training.logs import JSONLLogger, Progress, count_parameters
from lattiq.training.options import VARRunOptions
from lattiq.training.schedules import SCHEDULES, lr_multiplier

from .optim import OptimConfig, build_optimizer
from .token_cache import ensure_token_cache

__all__ = ["TrainVARConfig", "VARDataConfig", "main", "run"]


@dataclass
class VARDataConfig:
    """Where the tokens come from.

    ``tokenizer`` is a multi-scale tokenizer run (or checkpoint) directory; ``dataset`` /
    ``fit`` / ``root`` / ``limit`` say which images it encodes (``fit="pad"`` pads
    Fashion-MNIST 28 -> 32); the token cache goes to ``cache_dir`` (default
    ``<out_dir>/token_cache``) and is reused while tokenizer and recipe are unchanged.
    """

    tokenizer: str | None = None
    tokenizer_weights: str = "ema"
    dataset: str = "fashion-mnist"
    root: str | None = None
    fit: str = "pad"
    limit: int | None = None
    cache_dir: str | None = None
    encode_batch: int = 256


@dataclass
class TrainVARConfig:
    model: VARConfig = field(default_factory=lambda: var_preset("tiny"))
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: VARDataConfig = field(default_factory=VARDataConfig)
    steps: int = 2000
    batch_size: int = 64  # per process
    schedule: str = "standard"
    warmup_steps: int | None = None
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # autocast on CUDA only
    log_every: int = 10
    sample_every: int = 500
    sample_guidance: float = 1.5
    ckpt_every: int = 500
    keep_checkpoints: int = 2
    out_dir: str = "runs/var"


#: Keys a resumed run may change; anything else must match the checkpoint (``steps`` may
#: grow: see :func:`lattiq.runtime.resume.resume_check`).
RESUME_MUTABLE = {"device", "log_every", "sample_every", "ckpt_every", "keep_checkpoints",
                  "out_dir", "data.cache_dir", "data.encode_batch"}  # fmt: skip


class _LossModule(nn.Module):
    """``forward(labels, inputs, targets) -> CEOutput``, so that DDP wraps the loss pass."""

    def __init__(self, model: VAR):
        super().__init__()
        self.model = model

    def forward(self, labels, inputs, targets):
        return self.model.loss(labels, inputs, targets)


def run(opts: VARRunOptions) -> int:
    """Train (or, with ``opts.print_config``, print the resolved config); returns 0."""
    with contextlib.ExitStack() as cleanup:  # releases the run directory's lock, come what may
        return _run(opts, cleanup)


def _run(opts: VARRunOptions, cleanup: contextlib.ExitStack) -> int:
    # ---- config (on --resume, the run directory's own config is the base) ------------------
    preset = opts.preset or "tiny"
    if preset not in VAR_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(VAR_PRESETS)}")
    base = TrainVARConfig(model=var_preset(preset))
    cfg: TrainVARConfig = run_config(base, opts.config, opts.overrides, out_dir=opts.out,
                                        resume=opts.resume, from_run=opts.preset is None)
    if opts.tokenizer:
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data,
                                                                tokenizer=opts.tokenizer))
    _check_train_config(cfg)
    run_dir = Path(cfg.out_dir)

    # ---- distributed ----------------------------------------------------------------------
    dist = setup_distributed(cfg.device)
    device = dist.device
    say = (
        (lambda msg: print(msg, file=sys.stderr, flush=True)) if dist.is_main else (lambda m: None)
    )
    autocast = dict(device_type=device.type, dtype=torch.bfloat16,
                    enabled=cfg.bf16 and device.type == "cuda")  # fmt: skip

    # ---- tokenizer: the generator meets it only through its contract ----------------------
    tok_ck = find_checkpoint(cfg.data.tokenizer)
    tokenizer = Tokenizer.from_checkpoint(str(tok_ck), weights=cfg.data.tokenizer_weights)
    contract = tokenizer_contract(tokenizer)
    if opts.match_tokenizer:
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(
            cfg.model, code=contract["code"], code_dim=contract["code_dim"],
            codebook_size=contract["codebook_size"], scales=contract["scales"]))  # fmt: skip
    check_contract(cfg.model, contract, what=f"tokenizer at {tok_ck}")
    if opts.print_config:
        print(json.dumps(config_to_dict(cfg), indent=2))
        return 0

    # ---- run directory (locked) and resume: the checkpoint's config is checked first -------
    rundir = cleanup.enter_context(open_run_dir(
        run_dir, dist, resume=opts.resume, overwrite=opts.overwrite, outputs=("samples",),
        say=say))  # fmt: skip
    ck = None
    if opts.resume:
        ck = load_checkpoint(run_dir, info=dist, map_location="cpu",
                                check=resume_check(cfg, RESUME_MUTABLE))
    start_step = ck.step if ck is not None else 0
    rundir.truncate_log(start_step)

    # ---- data: tokens cached once (rank 0 encodes, the others wait and read) --------------
    cache_dir = Path(cfg.data.cache_dir or run_dir / "token_cache")
    cache_kw = dict(dataset=cfg.data.dataset, split="train", fit=cfg.data.fit,
                    root=cfg.data.root, limit=cfg.data.limit,
                    weights=cfg.data.tokenizer_weights, batch_size=cfg.data.encode_batch,
                    device=device, tokenizer=tokenizer, log=say,
                    progress=dist.is_main and opts.progress)  # fmt: skip
    if dist.is_main:
        cache = ensure_token_cache(tok_ck, cache_dir, **cache_kw)
    if dist.distributed:
        torch.distributed.barrier()
    if not dist.is_main:
        cache = ensure_token_cache(tok_ck, cache_dir, **cache_kw)
    if cache.meta["contract"]["scales"] != contract["scales"]:
        raise ValueError(f"token cache {cache.path} was made with another scale schedule")
    labels_max = int(cache.labels.max())
    if labels_max >= cfg.model.num_classes or int(cache.labels.min()) < 0:
        raise ValueError(f"the data have class labels up to {labels_max}, the generator has "
                         f"num_classes = {cfg.model.num_classes}")
    sampler = StepBatchSampler(len(cache), cfg.batch_size, seed=cfg.seed, rank=dist.rank,
                               world_size=dist.world_size)  # fmt: skip
    quantizer = tokenizer.quantizer.to(device).eval().requires_grad_(False)

    # ---- model ----------------------------------------------------------------------------
    seed_everything(cfg.seed)  # same initial weights on every rank
    model = VAR(cfg.model).to(device)
    ema = EMA(model, cfg.ema_decay)
    torch.manual_seed(cfg.seed * 7919 + 1 + dist.rank)  # class dropping differs per rank

    # ---- optimizer ------------------------------------------------------------------------
    opt = build_optimizer(model, cfg.optim)
    rundir.check_space(estimate_checkpoint_bytes([model, model], [opt]),
                       cfg.keep_checkpoints)
    if ck is not None:
        model.load_state_dict(ck.weights["model"])
        ema.load_state_dict({k: ck.weights["ema"][k] for k in ema.shadow},
                            ck.state["ema_updates"])  # fmt: skip
        opt.load_state_dict(ck.state["optimizer"])
        if ck.state.get("world_size") == dist.world_size:
            set_rng_state(ck.state["rng"][dist.rank])
        else:
            say("warning: the world size changed since the checkpoint; RNG state not restored")
        say(f"resumed from {ck.path} at step {start_step}")
    net: nn.Module = _LossModule(model)
    if dist.distributed:
        net = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None)

    # ---- loop -----------------------------------------------------------------------------
    if dist.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.json")
        say(f"generator: {count_parameters(model) / 1e6:.2f}M parameters, head "
            f"{cfg.model.head!r} over {cfg.model.codebook_size} codes, {cfg.model.seq_len} "
            f"tokens/image in {len(cfg.model.scales)} scales, {len(cache)} training images, "
            f"optimizer {cfg.optim.matrix}+{cfg.optim.scalar}, world size {dist.world_size}")
    log = JSONLLogger(run_dir / "log.jsonl", enabled=dist.is_main)
    stop = min(cfg.steps, opts.stop_at) if opts.stop_at is not None else cfg.steps
    bar = Progress(cfg.steps, start_step, enabled=dist.is_main and opts.progress)
    window: dict[str, float] = {}
    t_last, n_last = time.perf_counter(), start_step
    saved_config = {"config": config_to_dict(cfg), "var": config_to_dict(cfg.model),
                    "tokenizer": {"path": str(tok_ck), "weights": cfg.data.tokenizer_weights,
                                  "contract": contract}}  # fmt: skip

    def checkpoint(step: int) -> None:
        weights = {"model": model.state_dict(), "ema": {**model.state_dict(), **ema.state_dict()}}
        state = {"optimizer": opt.state_dict(), "ema_updates": ema.num_updates}
        save_checkpoint(run_dir, step, weights=weights, config=saved_config, state=state,
                           info=dist, keep=cfg.keep_checkpoints)  # fmt: skip
        if dist.is_main:
            write_training_curves(run_dir / "log.jsonl")  # training_curves.png beside it

    step = start_step
    while step < stop:
        rows = torch.tensor([i for i, _ in sampler.batch(step)])
        idx, labels = cache.batch(rows)
        idx = [t.to(device) for t in idx]
        labels = labels.to(device)
        with torch.no_grad():
            inputs = quantizer.next_scale_inputs(idx)
        labels_in = model.drop_labels(labels)
        opt.set_lr_factor(lr_multiplier(step, cfg.steps, cfg.schedule, cfg.warmup_steps))
        model.train()
        with torch.autocast(**autocast):
            out = net(labels_in, inputs, idx)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if not torch.isfinite(out.loss):
            raise FloatingPointError(f"non-finite loss at step {step}: {float(out.loss)}; "
                                     "lower optim.lr or raise model.z_loss")
        opt.step()
        ema.update(model)
        step += 1
        terms = {"loss": out.loss.detach(), "ce": out.ce.detach(),
                 "log_z_sq": out.log_z_sq.detach(), "grad_norm": gnorm.detach()}
        for k, v in terms.items():
            window[k] = window.get(k, 0.0) + float(v)
        window["_n"] = window.get("_n", 0) + 1
        bar.update(1, items=labels.shape[0] * dist.world_size, loss=float(out.loss.detach()))

        if step % cfg.log_every == 0 or step == stop:
            n = window.pop("_n")
            means = {k: float(all_reduce_mean(torch.tensor(v / n, device=device), dist))
                     for k, v in window.items()}  # fmt: skip
            now = time.perf_counter()
            tokens = (step - n_last) * cfg.batch_size * dist.world_size * cfg.model.seq_len
            emb = model.embedding_norms(inputs)  # content : position size at the input
            log.log(step=step, lr_factor=lr_multiplier(step - 1, cfg.steps, cfg.schedule,
                                                          cfg.warmup_steps),
                    **means, tokens_per_s=tokens / max(now - t_last, 1e-9),
                    input_content_norm=emb["content"], input_position_norm=emb["position"],
                    input_content_position_ratio=emb["ratio"])  # fmt: skip
            window, t_last, n_last = {}, now, step
        if dist.is_main and cfg.sample_every > 0 and (step % cfg.sample_every == 0
                                                      or step == stop):
            with ema.swapped_in(model):
                lab = torch.arange(cfg.model.num_classes).repeat_interleave(4)
                imgs, _ = generate_images(model, tokenizer, lab,
                                          SampleSettings(guidance=cfg.sample_guidance),
                                          seed=cfg.seed, progress=opts.progress)
            save_sample_grid(run_dir / "samples" / f"step_{step:08d}.png", imgs, lab,
                             dataset=cfg.data.dataset, caption=f"step {step}, EMA weights")
        if step % cfg.ckpt_every == 0 or step == stop:
            checkpoint(step)

    bar.close()
    log.close()
    say(f"done: step {step}, run directory {run_dir}")
    del net  # release the DDP wrapper before the group goes (see cleanup_distributed)
    cleanup_distributed(dist)
    return 0


def _check_train_config(cfg: TrainVARConfig) -> None:
    for name in ("steps", "batch_size", "log_every", "ckpt_every"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"{name} must be positive, got {getattr(cfg, name)}")
    if cfg.sample_every < 0:
        raise ValueError(f"sample_every must be >= 0 (0 = never), got {cfg.sample_every}")
    if cfg.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {cfg.schedule!r}; choose one of "
                         f"{sorted(SCHEDULES)}")
    if not cfg.data.tokenizer:
        raise ValueError("no tokenizer: pass --tokenizer DIR (a multi-scale tokenizer run) or "
                         "set data.tokenizer")
    if cfg.data.tokenizer_weights not in ("ema", "model"):
        raise ValueError(f"data.tokenizer_weights must be 'ema' or 'model', got "
                         f"{cfg.data.tokenizer_weights!r}")
    if len(cfg.optim.betas) != 2:
        raise ValueError(f"optim.betas must be two numbers, got {cfg.optim.betas}")


def main(argv: list[str] | None = None) -> int:
    """The script's entry (also under ``torchrun``): parse ``argv``, then :func:`run`."""
    from lattiq.commands.var import train_options  # the command line sits above the library

    return run(train_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
