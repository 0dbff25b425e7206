"""The Fashion-MNIST classifier whose feature space the generator is evaluated in.

ImageNet FID measures distances in an Inception network trained on ImageNet; on
Fashion-MNIST we measure in the features of a small CNN trained on Fashion-MNIST itself.
The weights are made by a command (``lattiq fmnist-classifier --out FILE``), never
downloaded, so the numbers are reproducible from the recipe here: architecture, data
preparation (padded to 32 x 32 like the generator's data), optimizer, epochs and seed.
Metrics computed in this space are named for what they are (e.g. "Fréchet distance in
FMNIST-classifier features"), not FID.

Shape legend: ``B`` batch, ``S`` image side (32), ``F`` feature dimension (128).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from lattiq.data.fit import load_images
from lattiq.progress import progress as progress_bar
from lattiq.runtime.directory import check_output_file
from lattiq.runtime.distributed import setup_distributed

from .options import ClassifierOptions

__all__ = [
    "ARCH",
    "MIN_ACCURACY",
    "FMNISTClassifier",
    "check_classifier_quality",
    "load_classifier",
    "main",
    "run",
    "train_classifier",
]

#: Architecture tag stored with the weights; bump it when the network changes.
ARCH = "fmnist-cnn-v1"

#: Test accuracy below which ``eval-var`` refuses a classifier: distances measured in the
#: features of a network that barely tells the classes apart say little about a generator.
#: The recipe on all 60,000 training images reaches 88.2 % in two epochs (docs/results.md).
MIN_ACCURACY = 0.80


class FMNISTClassifier(nn.Module):
    """Small CNN: three conv stages (16, 32, 64 channels; two 3x3 convs each, 2x2 max-pool
    between), flattened, a 128-d ReLU feature layer, a linear 10-way classifier.

    ``features(x)`` returns the 128-d penultimate activations (the evaluation space);
    ``forward(x)`` the class logits. Inputs are (B, 1, S, S) in ``[-1, 1]``.
    """

    feature_dim = 128

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = (16, 32, 64),
                 image_size: int = 32):
        super().__init__()
        side = image_size // 2 ** (len(widths) - 1)
        if side < 1 or image_size % 2 ** (len(widths) - 1):
            raise ValueError(f"image_size {image_size} must be divisible by "
                             f"{2 ** (len(widths) - 1)}")
        layers: list[nn.Module] = []
        c = 1
        for i, w in enumerate(widths):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True),
                       nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True)]
            c = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c * side * side, self.feature_dim)
        self.image_size = image_size
        self.out = nn.Linear(self.feature_dim, num_classes)
        self.widths = tuple(widths)
        self.num_classes = num_classes

    def features(self, x_BCSS: torch.Tensor) -> torch.Tensor:  # (B, F)
        if x_BCSS.ndim != 4 or x_BCSS.shape[1] != 1:
            raise ValueError(f"expected (B, 1, S, S) images in [-1, 1], got "
                             f"{tuple(x_BCSS.shape)}")
        if x_BCSS.shape[-1] != self.image_size or x_BCSS.shape[-2] != self.image_size:
            raise ValueError(f"expected {self.image_size}px images, got "
                             f"{tuple(x_BCSS.shape[-2:])}")
        h = self.body(x_BCSS.float()).flatten(1)
        return F.relu(self.fc(h))

    def forward(self, x_BCSS: torch.Tensor) -> torch.Tensor:  # (B, num_classes)
        return self.out(self.features(x_BCSS))

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
        """Features (N, F) and predicted classes (N,) of a batch of images, in eval mode."""
        self.eval()
        dev = next(self.parameters()).device
        feats, preds = [], []
        for s in range(0, images.shape[0], batch_size):
            f = self.features(images[s : s + batch_size].to(dev))
            feats.append(f.cpu())
            preds.append(self.out(f).argmax(-1).cpu())
        return torch.cat(feats), torch.cat(preds)


def _images(split: str, size: int, fit: str, root: str | None, limit: int | None):
    ds = load_images("fashion-mnist", split, size, 1, fit, root)
    n = len(ds) if limit is None else min(int(limit), len(ds))
    x = torch.stack([ds[i]["image"] for i in range(n)])
    y = torch.tensor([ds[i]["label"] for i in range(n)], dtype=torch.long)
    return x, y


def train_classifier(
    out: str | os.PathLike,
    *,
    epochs: int = 4,
    batch_size: int = 128,
    lr: float = 2e-3,
    image_size: int = 32,
    fit: str = "pad",
    root: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    log=None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict:
    """Train the classifier (AdamW, cosine decay, random horizontal flips) and save it.

    The output path is checked first (writable; an existing file is refused unless
    ``overwrite``). Returns the summary stored with the weights: the recipe, the number of
    training and test images and the test accuracy. With ``progress``, a bar on stderr
    counts the batches (plain lines when stderr is not a terminal), with the epoch and the
    running loss.
    """
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1 image, got {limit}")
    if fit not in ("pad", "resize"):
        raise ValueError(f"fit must be 'pad' or 'resize', got {fit!r}")
    FMNISTClassifier(image_size=image_size)  # refuses a size the network cannot take
    check_output_file(out, overwrite=overwrite, what="classifier file")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x, y = _images("train", image_size, fit, root, limit)
    xt, yt = _images("test", image_size, fit, root, None)
    model = FMNISTClassifier(image_size=image_size).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    bar = progress_bar(steps, desc="classifier", unit="batches", enabled=progress)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for s in range(0, len(x), batch_size):
            rows = perm[s : s + batch_size]
            xb, yb = x[rows], y[rows]
            flip = torch.rand(len(rows), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(rows)
            bar.set_postfix(epoch=f"{ep + 1}/{epochs}", loss=float(loss.detach()), refresh=False)
            bar.update(1)
        if log:
            msg = f"epoch {ep + 1}/{epochs}: train loss {total / len(x):.4f}"
            (bar.write if bar.mode == "bar" else log)(msg)  # a line that keeps the bar intact
    bar.close()
    _, pred = model.embed(xt)
    acc = float((pred == yt).float().mean())
    meta = {"arch": ARCH, "widths": list(model.widths), "feature_dim": model.feature_dim,
            "num_classes": model.num_classes, "image_size": image_size, "fit": fit,
            "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
            "train_images": len(x), "test_images": len(xt), "test_accuracy": acc}  # fmt: skip
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(sd, str(tmp), metadata={"lattiq_classifier": json.dumps(meta)})
    os.replace(tmp, p)
    return meta


def load_classifier(path: str | os.PathLike, map_location="cpu") -> tuple[FMNISTClassifier,
                                                                          dict]:
    """Load weights written by :func:`train_classifier`; returns ``(model, recipe)``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"no classifier at {str(p)!r}; make one with `lattiq fmnist-classifier --out {p}`")
    with safe_open(str(p), framework="pt") as fh:
        raw = (fh.metadata() or {}).get("lattiq_classifier")
    if raw is None:
        raise ValueError(f"{p} was not written by `lattiq fmnist-classifier` (no recipe)")
    meta = json.loads(raw)
    if meta.get("arch") != ARCH:
        raise ValueError(f"{p} holds architecture {meta.get('arch')!r}; this version reads "
                         f"{ARCH!r} (retrain it)")
    model = FMNISTClassifier(meta["num_classes"], tuple(meta["widths"]), meta["image_size"])
    model.load_state_dict(load_file(str(p), device=str(map_location)))
    return model.eval(), meta


def check_classifier_quality(meta: dict, path: str | os.PathLike,
                             min_accuracy: float = MIN_ACCURACY, allow_weak: bool = False
                             ) -> str | None:
    """Refuse a classifier whose stored test accuracy is below ``min_accuracy``.

    With ``allow_weak`` such a classifier is accepted and the warning is returned instead
    (``None`` when there is nothing to warn about). A file without a stored accuracy (made
    by an older version) is always refused.

    Raises
    ------
    ValueError
        With the accuracy, the number of images it was trained on, and how to retrain.
    """
    retrain = (f"retrain it with `lattiq fmnist-classifier --out {path} --overwrite` (the "
               "recipe on all 60,000 training images reached 88% in two epochs)")
    acc = meta.get("test_accuracy")
    if type(acc) not in (int, float) or not 0.0 <= acc <= 1.0:
        raise ValueError(f"classifier {path} stores no test accuracy (it was made by an older "
                         f"version), so its quality is unknown; {retrain}")
    if acc >= min_accuracy:
        return None
    n = meta.get("train_images")
    on = f" (trained on {n} images)" if type(n) is int else ""
    weak = (f"classifier {path} has test accuracy {acc:.1%}{on}, below {min_accuracy:.0%}: "
            "distances in its features say little about the generator")
    if allow_weak:
        return weak
    raise ValueError(f"{weak}; {retrain}, or pass --allow-weak-classifier to measure anyway")


def run(opts: ClassifierOptions) -> int:
    """Train and save the classifier, print its accuracy; returns 0."""
    device = setup_distributed(opts.device).device
    meta = train_classifier(
        opts.out, epochs=opts.epochs, batch_size=opts.batch_size, lr=opts.lr,
        image_size=opts.image_size, fit=opts.fit, root=opts.root, limit=opts.limit,
        seed=opts.seed, device=device, log=lambda m: print(m, file=sys.stderr),
        overwrite=opts.overwrite,
        progress=opts.progress,
    )  # fmt: skip
    if opts.json:
        print(json.dumps(meta))
    else:
        print(f"wrote {opts.out}: test accuracy {meta['test_accuracy']:.4f}", file=sys.stderr)
    if meta["test_accuracy"] < MIN_ACCURACY:
        print(f"warning: test accuracy {meta['test_accuracy']:.1%} is below "
              f"{MIN_ACCURACY:.0%}: eval-var will refuse this classifier unless given "
              "--allow-weak-classifier", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The script's entry: parse ``argv``, then :func:`run`."""
    from lattiq.commands.var import classifier_options  # the command line sits above the library

    return run(classifier_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
