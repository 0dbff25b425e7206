"""Samples of a trained generator written to a folder: ``lattiq sample`` (or ``main(argv)``).

Draws ``per_class`` images of each class (:func:`lattiq.models.sample.generate_images`) and
writes ``grid.png`` (one class per row), ``samples.npz`` (``images`` (N, S, S, C) uint8,
``labels`` (N,), ``indices_<k>`` (N, h_k, w_k)) and ``sample.json`` (the settings).

Shape legend: ``N`` images, ``C`` channels, ``S`` image side, ``h_k = w_k`` scale sides.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lattiq.models.sample import (
    class_labels,
    generate_images,
    load_generator,
    load_tokenizer_for,
)
from lattiq.runtime.directory import check_writable_dir
from lattiq.runtime.distributed import setup_distributed

from .figures import save_sample_grid
from .options import SampleOptions

__all__ = ["main", "run"]


def run(opts: SampleOptions) -> int:
    """Draw the samples and write ``grid.png``, ``samples.npz`` and ``sample.json``."""
    check_writable_dir(opts.out)  # before sampling, not after
    device = setup_distributed(opts.device).device
    model, saved = load_generator(opts.checkpoint, opts.weights)
    model = model.to(device)
    tok = load_tokenizer_for(saved, model.cfg, opts.tokenizer).to(device)
    settings = opts.settings
    labels = class_labels(opts.classes, opts.per_class, model.cfg.num_classes)
    images, indices = generate_images(model, tok, labels, settings, seed=opts.seed,
                                      batch_size=opts.batch_size, progress=opts.progress)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    data = ((saved.get("config") or {}).get("data") or {}).get("dataset")
    sets = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in settings.as_kwargs().items())
    save_sample_grid(out / "grid.png", images, labels, dataset=data,
                     nrow=opts.nrow or opts.per_class, caption=f"{sets}, seed {opts.seed}")
    u8 = ((images.permute(0, 2, 3, 1).numpy() + 1.0) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)
    arrays = {"images": u8, "labels": labels.numpy()}
    arrays.update({f"indices_{k}": t.numpy() for k, t in enumerate(indices)})
    tmp = out / ".samples.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(out / "samples.npz")
    summary = {"images": int(labels.numel()), "out": str(out), "seed": opts.seed,
               **{k: v for k, v in settings.as_kwargs().items()}}
    (out / "sample.json").write_text(json.dumps(summary, indent=2) + "\n")
    if opts.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {labels.numel()} samples to {out / 'grid.png'} and "
              f"{out / 'samples.npz'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The script's entry: parse ``argv``, then :func:`run`."""
    from lattiq.commands.var import sample_options  # the command line sits above the library

    return run(sample_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
