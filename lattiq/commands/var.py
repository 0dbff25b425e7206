"""Command-line wiring for ``lattiq train-var``, ``lattiq sample``, ``lattiq eval-var`` and
``lattiq fmnist-classifier``.

Argument parsing, and the parsed arguments as the scripts' typed options (comma lists such
as ``--guidance 1,1.5,2`` become one value per scale); torch is imported inside the
handlers, so ``lattiq`` commands that do not train work without it.
"""

from __future__ import annotations

import argparse

from .common import lazy_config_help, run_options, set_lazy_epilog

__all__ = [
    "build_classifier_parser",
    "build_eval_parser",
    "build_sample_parser",
    "build_train_parser",
    "classifier_options",
    "eval_options",
    "parse_schedule",
    "register",
    "sample_options",
    "train_options",
]

_TRAIN_HELP = "train the VAR generator on the tokens of a multi-scale tokenizer"
_SAMPLE_HELP = "sample images from a generator checkpoint (PNG grid + .npz)"
_EVAL_HELP = ("evaluate a generator: Fréchet distance, precision/recall and class fidelity in "
              "a Fashion-MNIST classifier's features (or ImageNet FID/IS), codebook usage")
_CLS_HELP = "train the Fashion-MNIST classifier whose features eval-var measures in"
_NO_PROGRESS = "no progress bar (it is plain lines when stderr is not a terminal)"


def _train_config():
    from lattiq.training.train_var import TrainVARConfig

    return TrainVARConfig, None, "defaults of --preset tiny; model.* follows --preset"


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    set_lazy_epilog(p, lazy_config_help(_train_config))
    p.add_argument("--config", metavar="FILE", help="YAML or JSON config (partial is fine)")
    p.add_argument("--preset",
                   help="model preset: tiny, small, d12, d16, d20, d24, d30 (default tiny; with "
                        "--resume the run directory's saved config is the base instead)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set model.head=dit --set steps=200")
    p.add_argument("--tokenizer", metavar="DIR", help="multi-scale tokenizer run directory")
    p.add_argument("--match-tokenizer", action="store_true",
                   help="take model.code, code_dim, codebook_size and scales from the tokenizer "
                        "(otherwise a tokenizer that differs from the config is refused)")
    p.add_argument("--out", metavar="DIR", help="run directory (overrides out_dir)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in the run directory from its latest checkpoint; its "
                        "saved config is used, --set changes only what it names (--set steps=N "
                        "extends it)")
    p.add_argument("--overwrite", action="store_true",
                   help="delete the checkpoints, log and samples of a run already in the run "
                        "directory and start again (without it, such a directory is refused)")
    p.add_argument("--stop-at", type=int, metavar="STEP",
                   help="save a checkpoint and stop once STEP steps are done (resume later)")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config (preset + --config + --set) as JSON, exit")
    p.add_argument("--no-progress", action="store_true", help=_NO_PROGRESS)


def _add_sampling_arguments(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    many = " (comma list: one value per scale" + ("; eval-var sweeps with --sweep-*)" if sweep
                                                  else ")")
    p.add_argument("--weights", default="ema", choices=("ema", "model"),
                   help="the generator's EMA weights or its raw weights (default ema)")
    p.add_argument("--tokenizer", metavar="DIR",
                   help="tokenizer run directory (default: the one the generator names)")
    p.add_argument("--guidance", default="1.5",
                   help="classifier-free guidance w (1 = none, 0 = unconditional)" + many)
    p.add_argument("--guidance-schedule", default="linear", choices=("linear", "constant"),
                   help="layerwise schedule of w over scales: linear ramp 1 -> w (default) or "
                        "constant")
    p.add_argument("--top-k", default="0", help="top-k filter, 0 = off" + many)
    p.add_argument("--top-p", default="1.0", help="top-p (nucleus) filter, 1 = off" + many)
    p.add_argument("--temperature", default="1.0", help="sampling temperature" + many)
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--batch-size", type=int, default=64,
                   help="images generated per batch (default 64)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--no-progress", action="store_true", help=_NO_PROGRESS)


def _add_sample_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="generator run directory or checkpoint directory")
    _add_sampling_arguments(p)
    p.add_argument("--classes", help="comma list of classes (default: all)")
    p.add_argument("--per-class", type=int, default=8, help="images per class (default 8)")
    p.add_argument("--nrow", type=int, help="images per grid row (default: --per-class)")
    p.add_argument("--out", default="samples", metavar="DIR",
                   help="output directory for grid.png, samples.npz (default ./samples)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")


def _add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="generator run directory or checkpoint directory")
    _add_sampling_arguments(p, sweep=True)
    p.add_argument("--protocol", default="fmnist", choices=("fmnist", "imagenet"),
                   help="fmnist: metrics in the Fashion-MNIST classifier's features; imagenet: "
                        "FID / IS with an Inception network from --inception")
    p.add_argument("--classifier", metavar="FILE",
                   help="classifier weights made by `lattiq fmnist-classifier`")
    p.add_argument("--allow-weak-classifier", action="store_true",
                   help="measure with a classifier whose stored test accuracy is below 80%% "
                        "(refused otherwise)")
    p.add_argument("--inception", metavar="FILE", help="FID Inception-v3 weights (imagenet)")
    p.add_argument("--data", help="reference dataset (default: the generator's training data)")
    p.add_argument("--data-root", help="dataset directory override")
    p.add_argument("--real-limit", type=int, help="reference images to use (default all test)")
    p.add_argument("--per-class", type=int, default=100, help="generated images per class")
    p.add_argument("--knn", type=int, default=3, help="k of the precision/recall manifolds")
    p.add_argument("--sweep-guidance", help="comma list of guidance values to sweep")
    p.add_argument("--sweep-top-k", help="comma list of top-k values to sweep")
    p.add_argument("--out", metavar="DIR", help="where report.json, report.md and grids go")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _add_classifier_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE",
                   help="weights file to write (.safetensors), with the recipe in its metadata")
    p.add_argument("--epochs", type=int, default=4,
                   help="passes over the training images (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=128,
                   help="images per step (default %(default)s)")
    p.add_argument("--lr", type=float, default=2e-3,
                   help="AdamW peak learning rate, cosine-decayed to 0 (default %(default)s)")
    p.add_argument("--image-size", type=int, default=32,
                   help="side of the images it classifies; must be the generator's image size "
                        "(default %(default)s)")
    p.add_argument("--fit", default="pad", choices=("pad", "resize"),
                   help="28px Fashion-MNIST to --image-size: pad with the background (as the "
                        "generator's data) or resize (default %(default)s)")
    p.add_argument("--root", metavar="DIR",
                   help="Fashion-MNIST directory (default: the Debian dataset-fashion-mnist "
                        "files)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="train on the first N training images only (default: all 60,000)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, shuffling and flips (default %(default)s)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--json", action="store_true", help="print the recipe and accuracy as JSON")
    p.add_argument("--no-progress", action="store_true", help=_NO_PROGRESS)


def build_train_parser(prog: str = "lattiq train-var") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=_TRAIN_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_train_arguments(p)
    return p


def build_sample_parser(prog: str = "lattiq sample") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=_SAMPLE_HELP)
    _add_sample_arguments(p)
    return p


def build_eval_parser(prog: str = "lattiq eval-var") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=_EVAL_HELP)
    _add_eval_arguments(p)
    return p


def build_classifier_parser(prog: str = "lattiq fmnist-classifier") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=_CLS_HELP)
    _add_classifier_arguments(p)
    return p


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


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _settings(args: argparse.Namespace):
    """The sampling options as :class:`~lattiq.models.sample.SampleSettings`."""
    from lattiq.models.sample import SampleSettings

    return SampleSettings(
        guidance=parse_schedule(args.guidance), guidance_kind=args.guidance_schedule,
        top_k=parse_schedule(args.top_k, int), top_p=parse_schedule(args.top_p),
        temperature=parse_schedule(args.temperature),
    )  # fmt: skip


def _train_options(args: argparse.Namespace):
    from lattiq.training.options import VARRunOptions

    return run_options(args, VARRunOptions, tokenizer=args.tokenizer,
                       match_tokenizer=args.match_tokenizer)


def _sample_options(args: argparse.Namespace):
    from lattiq.evaluation.options import SampleOptions

    classes = None if args.classes is None else _listed(parse_schedule(args.classes, int))
    return SampleOptions(
        checkpoint=args.checkpoint, out=args.out, weights=args.weights,
        tokenizer=args.tokenizer, settings=_settings(args), classes=classes,
        per_class=args.per_class, nrow=args.nrow, seed=args.seed, batch_size=args.batch_size,
        device=args.device, json=args.json, progress=not args.no_progress,
    )  # fmt: skip


def _eval_options(args: argparse.Namespace):
    from lattiq.evaluation.options import EvalVAROptions

    return EvalVAROptions(
        checkpoint=args.checkpoint, weights=args.weights, tokenizer=args.tokenizer,
        settings=_settings(args),
        sweep_guidance=_listed(parse_schedule(args.sweep_guidance))
        if args.sweep_guidance else None,
        sweep_top_k=_listed(parse_schedule(args.sweep_top_k, int)) if args.sweep_top_k
        else None,
        protocol=args.protocol, classifier=args.classifier,
        allow_weak_classifier=args.allow_weak_classifier, inception=args.inception,
        data=args.data, data_root=args.data_root, real_limit=args.real_limit,
        per_class=args.per_class, knn=args.knn, seed=args.seed, batch_size=args.batch_size,
        device=args.device, out=args.out, json=args.json, progress=not args.no_progress,
    )  # fmt: skip


def _classifier_options(args: argparse.Namespace):
    from lattiq.evaluation.options import ClassifierOptions

    return ClassifierOptions(
        out=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        image_size=args.image_size, fit=args.fit, root=args.root, limit=args.limit,
        seed=args.seed, device=args.device, overwrite=args.overwrite, json=args.json,
        progress=not args.no_progress,
    )  # fmt: skip


def train_options(argv: list[str] | None = None):
    """``argv`` (default ``sys.argv[1:]``) parsed into
    :class:`~lattiq.training.options.VARRunOptions`."""
    return _train_options(build_train_parser().parse_args(argv))


def sample_options(argv: list[str] | None = None):
    """``argv`` parsed into :class:`~lattiq.evaluation.options.SampleOptions`."""
    return _sample_options(build_sample_parser().parse_args(argv))


def eval_options(argv: list[str] | None = None):
    """``argv`` parsed into :class:`~lattiq.evaluation.options.EvalVAROptions`."""
    return _eval_options(build_eval_parser().parse_args(argv))


def classifier_options(argv: list[str] | None = None):
    """``argv`` parsed into :class:`~lattiq.evaluation.options.ClassifierOptions`."""
    return _classifier_options(build_classifier_parser().parse_args(argv))


def _train(args):
    from lattiq.training.train_var import run

    return run(_train_options(args))


def _sample(args):
    from lattiq.evaluation.sample_images import run

    return run(_sample_options(args))


def _eval(args):
    from lattiq.evaluation.eval_var import run

    return run(_eval_options(args))


def _classifier(args):
    from lattiq.evaluation.fmnist_classifier import run

    return run(_classifier_options(args))


def register(subparsers) -> None:
    """Add ``train-var``, ``sample``, ``eval-var`` and ``fmnist-classifier``.

    Each sets ``func`` to a handler taking the parsed namespace and returning an exit code.
    """
    for name, help_, add, func in (
        ("train-var", _TRAIN_HELP, _add_train_arguments, _train),
        ("sample", _SAMPLE_HELP, _add_sample_arguments, _sample),
        ("eval-var", _EVAL_HELP, _add_eval_arguments, _eval),
        ("fmnist-classifier", _CLS_HELP, _add_classifier_arguments, _classifier),
    ):
        p = subparsers.add_parser(name, help=help_, description=help_,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        add(p)
        p.set_defaults(func=func)
