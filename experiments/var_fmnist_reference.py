"""Reference rows for the generator table: real images and tokenizer reconstructions, measured
exactly like generated samples (same classifier features, same reference set, same count).

FD, precision and recall depend on the number of samples, so each reference row uses
``per_class`` images per class from the training split (the generator's sample size):

* ``real``: the images themselves — the floor a perfect generator would reach;
* ``recon:<tokenizer>``: their reconstruction through a tokenizer (encode, decode) — what a
  generator that reproduced the tokenizer's token distribution exactly could reach.

Usage::

    python experiments/var_fmnist_reference.py --out runs/generator2 --per-class 30 \
        --real-limit 2000 --tokenizers runs/generator2/tok_leech runs/generator2/tok_bsq-18
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def main(argv=None) -> int:
    from lattiq.data.fit import load_images
    from lattiq.evaluation.eval_var import class_fidelity, precision_recall
    from lattiq.evaluation.fmnist_classifier import load_classifier
    from lattiq.evaluation.metrics import FeatureStats, frechet_distance
    from lattiq.models.tokenizer import Tokenizer

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="directory with fmnist_classifier.safetensors")
    p.add_argument("--tokenizers", nargs="*", default=[])
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--real-limit", type=int, default=2000)
    p.add_argument("--knn", type=int, default=3)
    a = p.parse_args(argv)
    out = Path(a.out)
    net, _ = load_classifier(out / "fmnist_classifier.safetensors")
    test = load_images("fashion-mnist", "test", 32, 1, "pad")
    real = torch.stack([test[i]["image"] for i in range(a.real_limit)])
    rf, _ = net.embed(real)
    rs = FeatureStats(rf.shape[1])
    rs.update(rf)
    mu, cov = rs.mean_cov()
    train = load_images("fashion-mnist", "train", 32, 1, "pad")
    picked, labels, count = [], [], [0] * 10
    for i in range(len(train)):
        it = train[i]
        if count[it["label"]] < a.per_class:
            picked.append(it["image"])
            labels.append(it["label"])
            count[it["label"]] += 1
        if min(count) >= a.per_class:
            break
    x = torch.stack(picked)
    y = torch.tensor(labels)
    sets = {"real": x}
    for t in a.tokenizers:
        tok = Tokenizer.from_checkpoint(t).eval()
        with torch.no_grad():
            sets[f"recon:{Path(t).name}"] = torch.cat(
                [tok(x[s : s + 100]).images.clamp(-1, 1) for s in range(0, len(x), 100)])
    rows = []
    for name, imgs in sets.items():
        f, pred = net.embed(imgs)
        fs = FeatureStats(f.shape[1])
        fs.update(f)
        pr, rc = precision_recall(rf, f, a.knn)
        rows.append({"set": name, "images": len(imgs), "fd_fmnist": frechet_distance(
            mu, cov, *fs.mean_cov()), "precision": pr, "recall": rc,
            "class_fidelity": class_fidelity(pred, y, 10)["class_fidelity"]})
    (out / "reference_rows.json").write_text(json.dumps(rows, indent=2) + "\n")
    for r in rows:
        print(f"| {r['set']} | {r['fd_fmnist']:.4g} | {r['precision']:.4g} | "
              f"{r['recall']:.4g} | {r['class_fidelity']:.4g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
