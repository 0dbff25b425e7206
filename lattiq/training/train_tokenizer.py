"""Train a visual tokenizer: ``lattiq train-tokenizer`` (or ``main(argv)`` from Python).

Reads top to bottom: config -> distributed set-up -> data -> model and losses ->
optimizers -> (resume) -> loop. Runs single-process or under ``torchrun --nproc_per_node N``
(DDP; gloo on CPU, nccl on GPU). Every ``ckpt_every`` steps it writes an atomic checkpoint
(safetensors weights for ``model``, ``ema``, ``disc``, ``vf``; JSON config; optimizer,
scheduler and RNG state), and ``--resume`` continues it exactly: the data a step sees are a
function of ``(seed, step, rank)``, so an interrupted and resumed run ends with the same
weights as one that was not interrupted.

Shape legend: ``B`` batch, ``C`` channels, ``H = W`` image size.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from lattiq.data import (
    dataset_channels,
    get_dataset,
    make_eval_loader,
    make_train_loader,
    match_channels,
)
from lattiq.evaluation.figures import save_reconstruction_grid, write_training_curves
from lattiq.evaluation.health import collapse_message, measure_health
from lattiq.models.losses import LPIPS, AdversarialLoss, VFAlignLoss, load_feature_network
from lattiq.models.losses.discriminator import PatchDiscriminator
from lattiq.models.losses.lpips import lpips_missing_message
from lattiq.models.losses.vf_align import vf_missing_message
from lattiq.models.tokenizer import TOKENIZER_PRESETS, Tokenizer, TokenizerConfig, tokenizer_preset
from lattiq.quantizers.usage import CodeUsage
from lattiq.runtime.checkpoints import estimate_checkpoint_bytes, load_checkpoint, save_checkpoint
from lattiq.runtime.config import config_to_dict, save_config
from lattiq.runtime.directory import open_run_dir
from lattiq.runtime.distributed import (
    all_reduce_mean,
    cleanup_distributed,
    setup_distributed,
    sync_gradients,
)
from lattiq.runtime.resume import resume_check, run_config
from lattiq.runtime.rng import seed_everything, set_rng_state
from lattiq.training.ema import EMA
from lattiq.training.logs import JSONLLogger, Progress, count_parameters
from lattiq.training.options import RunOptions
from lattiq.training.schedules import make_lr_scheduler, restore_lr_scheduler

__all__ = ["DataConfig", "LossConfig", "TrainConfig", "main", "run"]


@dataclass
class DataConfig:
    """``name``: ``fashion-mnist``, ``natural`` or ``folder:PATH``; images are brought to the
    model's size and channel count (resize; gray <-> RGB)."""

    name: str = "natural"
    workers: int = 0
    root: str | None = None


@dataclass
class LossConfig:
    """Loss weights and options. A weight of 0 turns a term off."""

    l1: float = 1.0
    lpips: float = 0.0
    lpips_vgg: str | None = None
    lpips_heads: str | None = None
    adv: float = 0.0
    adv_loss: str = "hinge"
    adv_start: int = 0
    adv_adaptive: bool = True
    r1: float = 0.0
    disc_width: int = 64
    disc_layers: int = 3
    disc_lr: float | None = None
    vf: float = 0.0
    vf_model: str | None = None
    vf_cos_margin: float = 0.5
    vf_dist_margin: float = 0.25
    aux: float = 1.0  # multiplier on the quantizer's aux_loss (baselines' entropy penalty)


@dataclass
class TrainConfig:
    model: TokenizerConfig = field(default_factory=lambda: tokenizer_preset("tiny"))
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    steps: int = 2000
    batch_size: int = 32  # per process
    lr: float = 1e-3
    weight_decay: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.99])
    schedule: str = "standard"
    warmup_steps: int | None = None
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # autocast on CUDA only
    log_every: int = 10
    image_every: int = 500
    ckpt_every: int = 500
    keep_checkpoints: int = 2
    out_dir: str = "runs/tokenizer"
    # codebook health on a fixed set of held-out images (docs/tokenizer.md, "Codebook health")
    health_every: int = 100
    health_images: int = 256
    collapse_perplexity: float = 16.0  # warn when held-out perplexity stays below this ...
    collapse_after: int | None = None  # ... after this step (None: max(100, steps // 10))


#: Keys a resumed run may change; anything else must match the checkpoint (``steps`` may
#: grow: see :func:`lattiq.runtime.resume.resume_check`).
RESUME_MUTABLE = {"data.workers", "device", "log_every", "image_every", "ckpt_every",
                  "keep_checkpoints", "out_dir", "health_every", "health_images",
                  "collapse_perplexity", "collapse_after"}  # fmt: skip


def run(opts: RunOptions) -> int:
    """Train (or, with ``opts.print_config``, print the resolved config); returns 0."""
    with contextlib.ExitStack() as cleanup:  # releases the run directory's lock, come what may
        return _run(opts, cleanup)


def _run(opts: RunOptions, cleanup: contextlib.ExitStack) -> int:
    # ---- config (on --resume, the run directory's own config is the base) ------------------
    preset = opts.preset or "tiny"
    if preset not in TOKENIZER_PRESETS:
        raise ValueError(
            f"unknown preset {preset!r}; choose one of {sorted(TOKENIZER_PRESETS)}"
        )
    base = TrainConfig(model=tokenizer_preset(preset))
    cfg: TrainConfig = run_config(base, opts.config, opts.overrides, out_dir=opts.out,
                                     resume=opts.resume, from_run=opts.preset is None)
    cfg.model.validate()
    _check_train_config(cfg)
    if opts.print_config:
        print(json.dumps(config_to_dict(cfg), indent=2))
        return 0
    run_dir = Path(cfg.out_dir)

    # ---- distributed ----------------------------------------------------------------------
    dist = setup_distributed(cfg.device)
    device = dist.device

    def say(msg: str) -> None:
        if dist.is_main:
            print(msg, file=sys.stderr, flush=True)

    autocast = dict(
        device_type=device.type,
        dtype=torch.bfloat16,
        enabled=cfg.bf16 and device.type == "cuda",
    )

    # ---- run directory (locked) and resume: the checkpoint's config is checked first -------
    rundir = cleanup.enter_context(open_run_dir(
        run_dir, dist, resume=opts.resume, overwrite=opts.overwrite, outputs=("images",),
        say=say))  # fmt: skip
    ck = None
    if opts.resume:
        ck = load_checkpoint(run_dir, info=dist, map_location="cpu",
                                check=resume_check(cfg, RESUME_MUTABLE))
    start_step = ck.step if ck is not None else 0
    rundir.truncate_log(start_step)

    # ---- data -----------------------------------------------------------------------------
    size, channels = cfg.model.image_size, cfg.model.channels
    train_set = get_dataset(cfg.data.name, "train", size, seed=cfg.seed, root=cfg.data.root)
    loader = make_train_loader(
        train_set, cfg.batch_size, seed=cfg.seed, rank=dist.rank,
        world_size=dist.world_size, start_step=start_step, steps=cfg.steps,
        workers=cfg.data.workers,
    )  # fmt: skip
    src_channels = dataset_channels(cfg.data.name)
    heldout = next(iter(make_eval_loader(
        get_dataset(cfg.data.name, "test", size, seed=0, root=cfg.data.root),
        max(16, cfg.health_images),
    )))["image"]  # fmt: skip
    heldout = match_channels(heldout, channels).to(device)  # (N, C, H, W), for health checks
    fixed = heldout[:16]  # (16, C, H, W), for image grids
    collapse_after = (
        cfg.collapse_after if cfg.collapse_after is not None else max(100, cfg.steps // 10)
    )

    # ---- model and losses -----------------------------------------------------------------
    seed_everything(cfg.seed)  # same initial weights on every rank
    model = Tokenizer(cfg.model).to(device)
    ema = EMA(model, cfg.ema_decay)

    lpips = None
    if cfg.loss.lpips > 0:
        if cfg.loss.lpips_vgg and cfg.loss.lpips_heads:
            lpips = LPIPS.from_files(cfg.loss.lpips_vgg, cfg.loss.lpips_heads).to(device)
        else:
            say("LPIPS is off: " + lpips_missing_message("its weights"))
    adv = None
    if cfg.loss.adv > 0:
        adv = AdversarialLoss(
            channels, cfg.loss.adv, cfg.loss.adv_loss, cfg.loss.adv_start,
            cfg.loss.adv_adaptive, cfg.loss.r1, cfg.loss.disc_width, cfg.loss.disc_layers,
        ).to(device)  # fmt: skip
    vf = None
    if cfg.loss.vf > 0:
        feat = load_feature_network(cfg.loss.vf_model).to(device)
        vf = VFAlignLoss(
            feat, model.code_dim, feat.dim, cfg.loss.vf_cos_margin, cfg.loss.vf_dist_margin,
            feature_image_size=cfg.model.grid * feat.patch,
        ).to(device)  # fmt: skip

    # ---- optimizers -----------------------------------------------------------------------
    gen_modules = [model] + ([vf.proj] if vf is not None else [])
    opt = torch.optim.AdamW(
        _param_groups(gen_modules, cfg.weight_decay), lr=cfg.lr, betas=tuple(cfg.betas)
    )
    sched = make_lr_scheduler(opt, cfg.steps, cfg.schedule, cfg.warmup_steps)
    opt_d = sched_d = None
    if adv is not None:
        opt_d = torch.optim.AdamW(
            adv.disc.parameters(), lr=cfg.loss.disc_lr or cfg.lr, betas=tuple(cfg.betas),
            weight_decay=cfg.weight_decay,
        )  # fmt: skip
        # the discriminator's schedule starts when it does
        d_steps = max(1, cfg.steps - cfg.loss.adv_start)
        sched_d = make_lr_scheduler(opt_d, d_steps, cfg.schedule, cfg.warmup_steps)
    rundir.check_space(estimate_checkpoint_bytes(
        [model, model, adv and adv.disc, vf and vf.proj], [opt, opt_d]), cfg.keep_checkpoints)

    if ck is not None:
        model.load_weights(ck.weights["model"], ck.config.get("signature"))
        ema.load_state_dict(ck.weights["ema"], ck.state["ema_updates"])
        opt.load_state_dict(ck.state["optimizer"])
        restore_lr_scheduler(sched, ck.state["scheduler"])
        if adv is not None:
            adv.disc.load_state_dict(ck.weights["disc"])
            opt_d.load_state_dict(ck.state["opt_d"])
            restore_lr_scheduler(sched_d, ck.state["sched_d"])
        if vf is not None:
            vf.proj.load_state_dict(ck.weights["vf"])
        if ck.state.get("world_size") == dist.world_size:
            set_rng_state(ck.state["rng"][dist.rank])
        else:
            say("warning: the world size changed since the checkpoint; RNG state not restored")
        say(f"resumed from {ck.path} at step {start_step}")

    net = model
    if dist.distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None,
            forward_sync_buffers=False,  # only fixed codebooks: nothing to sync per step
        )  # fmt: skip

    # ---- loop -----------------------------------------------------------------------------
    if dist.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.json")
        say(
            f"tokenizer: {count_parameters(model) / 1e6:.2f}M parameters, code "
            f"{cfg.model.quantizer.code!r} ({model.bits_per_token:.2f} bits/token, "
            f"{model.tokens_per_image()} tokens/image), data {cfg.data.name!r} "
            f"({src_channels}->{channels} channels), world size {dist.world_size}"
        )
    log = JSONLLogger(run_dir / "log.jsonl", enabled=dist.is_main)
    stop = min(cfg.steps, opts.stop_at) if opts.stop_at is not None else cfg.steps
    bar = Progress(cfg.steps, start_step, enabled=dist.is_main and opts.progress)
    usage = CodeUsage(model.codebook_size, exact=True)
    window: dict[str, float] = {}
    skipped, t_last, n_last = 0, time.perf_counter(), start_step

    def checkpoint(step: int) -> None:
        weights = {"model": model.state_dict(), "ema": {**model.state_dict(), **ema.state_dict()}}
        state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                 "ema_updates": ema.num_updates}  # fmt: skip
        if adv is not None:
            weights["disc"] = adv.disc.state_dict()
            state.update(opt_d=opt_d.state_dict(), sched_d=sched_d.state_dict())
        if vf is not None:
            weights["vf"] = vf.proj.state_dict()
        config = {"config": config_to_dict(cfg), "signature": model.signature()}
        save_checkpoint(run_dir, step, weights=weights, config=config, state=state,
                           info=dist, keep=cfg.keep_checkpoints)  # fmt: skip
        if dist.is_main:
            write_training_curves(run_dir / "log.jsonl")  # training_curves.png beside it

    step = start_step
    for batch in loader:
        if step >= stop:
            break
        x = match_channels(batch["image"], channels).to(device, non_blocking=True)
        skipped += int(batch["skipped"].sum())
        model.train()

        # generator (tokenizer) step
        with torch.autocast(**autocast):
            out = net(x)
            recon = out.images.float()
            rec = F.l1_loss(recon, x)
            terms = {"l1": rec.detach()}
            rec_total = cfg.loss.l1 * rec
            if lpips is not None:
                p = lpips(recon, x).mean()
                rec_total = rec_total + cfg.loss.lpips * p
                terms["lpips"] = p.detach()
            loss = rec_total + cfg.loss.aux * out.quant.aux_loss.float()
            terms["aux"] = out.quant.aux_loss.detach().float()
            if vf is not None:
                v, vlogs = vf(out.latent, x)
                loss = loss + cfg.loss.vf * v
                terms.update(vf=v.detach(), **vlogs)
            if adv is not None and adv.active(step):
                g, lam = adv.generator_term(recon, step, rec_total, model.last_layer)
                loss = loss + g
                terms.update(g_loss=g.detach(), adv_weight=lam)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if vf is not None:
            sync_gradients(vf.proj, dist)
        gnorm = torch.nn.utils.clip_grad_norm_(
            [p for m in gen_modules for p in m.parameters()], cfg.grad_clip
        )
        opt.step()
        sched.step()
        ema.update(model)
        terms.update(loss=loss.detach(), grad_norm=gnorm.detach())

        # discriminator step
        if adv is not None:
            if adv.active(step):
                with torch.autocast(**autocast):
                    d_loss, d_logs = adv.discriminator_term(x, recon.detach(), step)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                sync_gradients(adv.disc, dist)
                torch.nn.utils.clip_grad_norm_(adv.disc.parameters(), cfg.grad_clip)
                opt_d.step()
                sched_d.step()
                terms.update(d_logs)

        step += 1
        usage.update(out.quant.indices)
        for k, v in terms.items():
            window[k] = window.get(k, 0.0) + float(v)
        window["_n"] = window.get("_n", 0) + 1
        bar.update(
            1, items=x.shape[0] * dist.world_size, loss=float(loss.detach()), l1=float(rec.detach())
        )

        health = {}
        if dist.is_main and cfg.health_images > 0 and (
            step % cfg.health_every == 0 or step == stop
        ):
            h = measure_health(model, heldout[: cfg.health_images])
            health = {f"health_{k}": v for k, v in h.items()}
            warning = collapse_message(h, cfg.collapse_perplexity, step)
            if warning and step >= collapse_after:
                say(warning)
        if step % cfg.log_every == 0 or step == stop:
            n = window.pop("_n")
            means = {k: v / n for k, v in window.items()}
            means = {k: float(all_reduce_mean(torch.tensor(v, device=device), dist))
                     for k, v in means.items()}  # fmt: skip
            now = time.perf_counter()
            u = usage.summary()
            log.log(
                step=step, lr=sched.get_last_lr()[0], **means,
                images_per_s=(step - n_last) * cfg.batch_size * dist.world_size / (now - t_last),
                used_codes=u["used_codes"], perplexity=u["perplexity"], skipped_files=skipped,
                **health,
            )  # fmt: skip
            window, t_last, n_last = {}, now, step
            usage = CodeUsage(model.codebook_size, exact=True)
        elif health:
            log.log(step=step, **health)
        if dist.is_main and (step % cfg.image_every == 0 or step == stop):
            model.eval()
            with torch.no_grad(), ema.swapped_in(model), torch.autocast(**autocast):
                rec_fixed = model(fixed).images.float().clamp(-1, 1)
            save_reconstruction_grid(run_dir / "images" / f"step_{step:08d}.png", fixed,
                                     rec_fixed, caption=f"step {step}, EMA weights")
        if step % cfg.ckpt_every == 0 or step == stop:
            checkpoint(step)

    bar.close()
    log.close()
    if skipped:
        say(f"skipped {skipped} unreadable image file(s) (see warnings above)")
    say(f"done: step {step}, run directory {run_dir}")
    del net  # release the DDP wrapper before the group goes (see cleanup_distributed)
    cleanup_distributed(dist)
    return 0


# ---- helpers --------------------------------------------------------------------------------


def _check_train_config(cfg: TrainConfig) -> None:
    for name in ("steps", "batch_size", "log_every", "image_every", "ckpt_every", "health_every"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"{name} must be positive, got {getattr(cfg, name)}")
    if cfg.lr <= 0:
        raise ValueError(f"lr must be positive, got {cfg.lr}")
    if cfg.health_images < 0:
        raise ValueError(f"health_images must be >= 0 (0 turns the checks off), got "
                         f"{cfg.health_images}")  # fmt: skip
    if len(cfg.betas) != 2:
        raise ValueError(f"betas must be two numbers, got {cfg.betas}")
    if cfg.loss.vf > 0 and not cfg.loss.vf_model:
        raise ValueError(vf_missing_message())
    if cfg.loss.adv > 0:
        need = PatchDiscriminator.min_size(cfg.loss.disc_layers)
        if cfg.model.image_size < need:
            raise ValueError(
                f"a {cfg.loss.disc_layers}-layer patch discriminator needs images of at least "
                f"{need}px; set loss.disc_layers lower for {cfg.model.image_size}px images"
            )


def _param_groups(modules, weight_decay: float) -> list[dict]:
    """Decoupled weight decay on matrices only; none on biases and norm gains."""
    decay, no_decay = [], []
    for m in modules:
        for p in m.parameters():
            if p.requires_grad:
                (decay if p.ndim >= 2 else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def main(argv: list[str] | None = None) -> int:
    """The script's entry (also under ``torchrun``): parse ``argv``, then :func:`run`."""
    from lattiq.commands.tokenizer import train_options  # the command line sits above the library

    return run(train_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
