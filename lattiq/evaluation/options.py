"""What the evaluation scripts take: a typed options dataclass each.

What the command line gives :mod:`~lattiq.evaluation.eval_tokenizer`,
:mod:`~lattiq.evaluation.eval_var`, :mod:`~lattiq.evaluation.sample_images` and
:mod:`~lattiq.evaluation.fmnist_classifier` (``lattiq eval-tokenizer``, ``eval-var``,
``sample``, ``fmnist-classifier``); each script's ``run(options)`` reads nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lattiq.models.sample import SampleSettings

__all__ = ["ClassifierOptions", "EvalTokenizerOptions", "EvalVAROptions", "SampleOptions"]


@dataclass
class EvalTokenizerOptions:
    """What ``lattiq eval-tokenizer`` evaluates, and how.

    ``checkpoint``: a run or checkpoint directory; ``weights``: ``"ema"`` or ``"model"``;
    ``data`` / ``split``: the dataset (default: the one it was trained on) and split;
    ``limit``: the first N images only; ``lpips_vgg`` + ``lpips_heads``: LPIPS weights (LPIPS
    is skipped without them); ``inception``: FID Inception weights (rFID is skipped without
    them); ``out``: where ``report.json`` and ``grid.png`` go (default ``<run>/eval``);
    ``json``: print the report as JSON instead of a summary; ``progress``: a bar on stderr.
    """

    checkpoint: str
    weights: str = "ema"
    data: str | None = None
    split: str = "test"
    limit: int | None = None
    batch_size: int = 64
    lpips_vgg: str | None = None
    lpips_heads: str | None = None
    inception: str | None = None
    out: str | None = None
    device: str = "auto"
    json: bool = False
    progress: bool = True


@dataclass
class EvalVAROptions:
    """What ``lattiq eval-var`` measures, and how.

    ``checkpoint``: a generator run or checkpoint directory; ``weights``: ``"ema"`` or
    ``"model"``; ``tokenizer``: a tokenizer run directory (default: the one the generator
    names); ``settings``: the sampling settings; ``sweep_guidance`` / ``sweep_top_k``: values
    swept instead of ``settings.guidance`` / ``settings.top_k`` (one row per pair);
    ``protocol``: ``"fmnist"`` (features of the classifier at ``classifier``, made by
    ``lattiq fmnist-classifier``; one below 80% test accuracy is refused unless
    ``allow_weak_classifier``) or ``"imagenet"`` (FID / IS with the Inception network at
    ``inception``); ``data`` / ``data_root`` / ``real_limit``: the reference images (default:
    the generator's training data, all of its test split); ``per_class``: generated images
    per class; ``knn``: k of the precision/recall manifolds; ``out``: where ``report.json``,
    ``report.md`` and grids go; ``json``: print the report as JSON.
    """

    checkpoint: str
    weights: str = "ema"
    tokenizer: str | None = None
    settings: SampleSettings = field(default_factory=SampleSettings)
    sweep_guidance: list[float] | None = None
    sweep_top_k: list[int] | None = None
    protocol: str = "fmnist"
    classifier: str | None = None
    allow_weak_classifier: bool = False
    inception: str | None = None
    data: str | None = None
    data_root: str | None = None
    real_limit: int | None = None
    per_class: int = 100
    knn: int = 3
    seed: int = 0
    batch_size: int = 64
    device: str = "auto"
    out: str | None = None
    json: bool = False
    progress: bool = True


@dataclass
class SampleOptions:
    """What ``lattiq sample`` draws, and where it writes it.

    ``checkpoint``: a generator run or checkpoint directory; ``weights``: ``"ema"`` or
    ``"model"``; ``tokenizer``: a tokenizer run directory (default: the one the generator
    names); ``settings``: guidance, top-k, top-p and temperature; ``classes``: the classes
    drawn (default: all), ``per_class`` images each; ``nrow``: images per grid row (default
    ``per_class``); ``json``: print a JSON summary; ``progress``: a bar on stderr.
    """

    checkpoint: str
    out: str = "samples"
    weights: str = "ema"
    tokenizer: str | None = None
    settings: SampleSettings = field(default_factory=SampleSettings)
    classes: Sequence[int] | None = None
    per_class: int = 8
    nrow: int | None = None
    seed: int = 0
    batch_size: int = 64
    device: str = "auto"
    json: bool = False
    progress: bool = True


@dataclass
class ClassifierOptions:
    """``lattiq fmnist-classifier``: where the weights go and the recipe
    (:func:`train_classifier`'s arguments); ``json`` prints the recipe and accuracy as JSON."""

    out: str
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-3
    image_size: int = 32
    fit: str = "pad"
    root: str | None = None
    limit: int | None = None
    seed: int = 0
    device: str = "auto"
    overwrite: bool = False
    json: bool = False
    progress: bool = True
