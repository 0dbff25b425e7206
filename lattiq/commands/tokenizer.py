"""``lattiq train-tokenizer`` and ``lattiq eval-tokenizer``: argument parsing, and the
parsed arguments as the scripts' typed options.

torch is imported inside the handlers, so ``lattiq`` commands that do not train
(``lattiq lattice stats``) work without it.
"""

from __future__ import annotations

import argparse

from .common import lazy_config_help, run_options, set_lazy_epilog

__all__ = ["build_eval_parser", "build_train_parser", "eval_options", "register", "train_options"]

_TRAIN_HELP = "train a ViT tokenizer with any spherical code"
_EVAL_HELP = "evaluate a tokenizer checkpoint (PSNR, SSIM, MS-SSIM, LPIPS, rFID, usage)"


def _step(text: str) -> int:
    """argparse type of ``--stop-at``: a step number >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a step number >= 1, got {v}")
    return v
def _train_config():
    from lattiq.training.train_tokenizer import TrainConfig

    return TrainConfig, None, "defaults of --preset tiny; model.* follows --preset"


#: help text after the options: the config keys, generated from the dataclasses when shown
_TRAIN_EPILOG = lazy_config_help(_train_config)
_TRAIN_KW = dict(description=_TRAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    set_lazy_epilog(p, _TRAIN_EPILOG)
    p.add_argument("--config", metavar="FILE", help="YAML or JSON config (partial is fine)")
    p.add_argument(
        "--preset",
        help="model preset the config starts from: tiny, small, vit-b8 (default tiny; with "
        "--resume the run directory's saved config is the base instead)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set model.quantizer.code=bsq-18 --set steps=200",
    )
    p.add_argument("--out", metavar="DIR", help="run directory (overrides out_dir)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in the run directory from its latest checkpoint, exactly; its "
        "saved config is used, --set changes only what it names (--set steps=N extends it)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the checkpoints, log and images of a run already in the run directory "
        "and start again (without it, such a directory is refused)",
    )
    p.add_argument(
        "--stop-at",
        type=_step,
        metavar="STEP",
        help="save a checkpoint and stop once STEP steps are done (resume later)",
    )
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config (preset + --config + --set) as JSON, exit")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is plain lines when stderr is not a terminal)")


def _add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="run directory or checkpoint directory")
    p.add_argument("--weights", default="ema", choices=("ema", "model"),
                   help="the EMA weights or the raw model weights (default ema)")
    p.add_argument("--data", help="dataset (default: the one it was trained on)")
    p.add_argument("--split", default="test", choices=("train", "test"),
                   help="dataset split (default test)")
    p.add_argument("--limit", type=int, help="evaluate the first N images only")
    p.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    p.add_argument("--lpips-vgg", metavar="FILE", help="torchvision VGG16 weights for LPIPS")
    p.add_argument("--lpips-heads", metavar="FILE", help="LPIPS linear heads (lpips vgg.pth)")
    p.add_argument("--inception", metavar="FILE", help="FID Inception weights for rFID")
    p.add_argument("--out", metavar="DIR", help="where report.json and grid.png go")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is plain lines when stderr is not a terminal)")


def build_train_parser(prog: str = "lattiq train-tokenizer") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, **_TRAIN_KW)
    _add_train_arguments(p)
    return p


def build_eval_parser(prog: str = "lattiq eval-tokenizer") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=_EVAL_HELP)
    _add_eval_arguments(p)
    return p


def train_options(argv: list[str] | None = None):
    """``argv`` (default ``sys.argv[1:]``) parsed into the training script's
    :class:`~lattiq.training.options.RunOptions`."""
    return run_options(build_train_parser().parse_args(argv))


def _eval_options(args: argparse.Namespace):
    from lattiq.evaluation.options import EvalTokenizerOptions

    return EvalTokenizerOptions(
        checkpoint=args.checkpoint, weights=args.weights, data=args.data, split=args.split,
        limit=args.limit, batch_size=args.batch_size, lpips_vgg=args.lpips_vgg,
        lpips_heads=args.lpips_heads, inception=args.inception, out=args.out,
        device=args.device, json=args.json, progress=not args.no_progress,
    )  # fmt: skip


def eval_options(argv: list[str] | None = None):
    """``argv`` parsed into :class:`~lattiq.evaluation.options.EvalTokenizerOptions`."""
    return _eval_options(build_eval_parser().parse_args(argv))


def _train(args: argparse.Namespace) -> int:
    from lattiq.training.train_tokenizer import run

    return run(run_options(args))


def _eval(args: argparse.Namespace) -> int:
    from lattiq.evaluation.eval_tokenizer import run

    return run(_eval_options(args))


def register(subparsers) -> None:
    """Add ``train-tokenizer`` and ``eval-tokenizer`` to an argparse subparsers object.

    Each sets ``func`` to a handler taking the parsed namespace and returning an exit code.
    """
    t = subparsers.add_parser("train-tokenizer", help=_TRAIN_HELP, **_TRAIN_KW)
    _add_train_arguments(t)
    t.set_defaults(func=_train)
    e = subparsers.add_parser("eval-tokenizer", help=_EVAL_HELP, description=_EVAL_HELP)
    _add_eval_arguments(e)
    e.set_defaults(func=_eval)
