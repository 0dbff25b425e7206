"""Evaluate a generator: ``lattiq eval-var`` (or ``main(argv)``; options
:class:`~lattiq.evaluation.options.EvalVAROptions`).

Shape legend: ``N`` real images, ``M`` generated images, ``F`` feature dimension.

Two protocols:

* ``fmnist`` (default): in the feature space of the Fashion-MNIST classifier made by
  ``lattiq fmnist-classifier`` — the Fréchet distance between real and generated features
  ("FD-FMNIST"; the construction of FID, in another network, so *not* ImageNet FID),
  precision and recall of k-NN manifolds (Kynkäänniemi et al. 2019), and class fidelity
  (the classifier's accuracy on generated images, per conditioning class);
* ``imagenet``: FID and Inception Score with the FID Inception-v3 read from a local weights
  file (``--inception``), against a reference image folder (``--data folder:PATH``).

Both report the codebook usage of the generated tokens per scale, and sweep guidance and
top-k values (``--sweep-guidance 1,1.5,2,3 --sweep-top-k 0,100,1000``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from lattiq.data import match_channels
from lattiq.data.fit import load_images
from lattiq.models.losses.lpips import read_state_dict
from lattiq.models.sample import (
    class_labels,
    generate_images,
    load_generator,
    load_tokenizer_for,
)
from lattiq.quantizers.usage import CodeUsage
from lattiq.runtime.directory import check_writable_dir
from lattiq.runtime.distributed import setup_distributed

from .figures import save_sample_grid
from .fmnist_classifier import check_classifier_quality, load_classifier
from .inception import load_fid_inception
from .metrics import FeatureStats, frechet_distance
from .options import EvalVAROptions

__all__ = [
    "class_fidelity",
    "inception_score",
    "knn_radii",
    "main",
    "precision_recall",
    "run",
]


def knn_radii(feats_NF: torch.Tensor, k: int = 3, chunk: int = 1024) -> torch.Tensor:
    """Distance from each point to its ``k``-th nearest neighbour in the same set (not itself).

    Returns (N,) float64.
    """
    x = feats_NF.double()
    N = x.shape[0]
    if not 1 <= k < N:
        raise ValueError(f"k must be in [1, N) = [1, {N}), got {k}")
    out = torch.empty(N, dtype=torch.float64)
    for s in range(0, N, chunk):
        d = torch.cdist(x[s : s + chunk], x)  # (c, N), includes the zero self-distance
        out[s : s + chunk] = torch.kthvalue(d, k + 1, dim=1).values
    return out


def _covered(query_MF: torch.Tensor, ref_NF: torch.Tensor, radii_N: torch.Tensor,
             chunk: int = 1024) -> torch.Tensor:
    """(M,) bool: query ``j`` lies in some ball ``B(ref_i, radii_i)``."""
    q, r = query_MF.double(), ref_NF.double()
    out = torch.empty(q.shape[0], dtype=torch.bool)
    for s in range(0, q.shape[0], chunk):
        d = torch.cdist(q[s : s + chunk], r)  # (c, N)
        out[s : s + chunk] = (d <= radii_N[None]).any(dim=1)
    return out


def precision_recall(real_NF: torch.Tensor, fake_MF: torch.Tensor, k: int = 3
                     ) -> tuple[float, float]:
    r"""Improved precision and recall of a generative model (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls around its points with radius the distance to
    the ``k``-th nearest neighbour in the same set:

    .. math::
        \mathrm{precision} = \frac{1}{M}\sum_{j} \big[\phi_g^{(j)} \in
        \mathrm{manifold}(\Phi_r)\big], \qquad
        \mathrm{recall} = \frac{1}{N}\sum_{i} \big[\phi_r^{(i)} \in
        \mathrm{manifold}(\Phi_g)\big].

    References
    ----------
    T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila, "Improved precision and recall
    metric for assessing generative models", NeurIPS 2019.
    """
    if real_NF.ndim != 2 or fake_MF.ndim != 2 or real_NF.shape[1] != fake_MF.shape[1]:
        raise ValueError(f"features must be (N, F) and (M, F), got {tuple(real_NF.shape)} and "
                         f"{tuple(fake_MF.shape)}")
    prec = _covered(fake_MF, real_NF, knn_radii(real_NF, k)).double().mean().item()
    rec = _covered(real_NF, fake_MF, knn_radii(fake_MF, k)).double().mean().item()
    return prec, rec


def class_fidelity(pred_M: torch.Tensor, labels_M: torch.Tensor, num_classes: int) -> dict:
    r"""Classifier accuracy on generated images: overall and per conditioning class.

    .. math:: \mathrm{fidelity}_c = \frac{|\{j : y_j = c,\ \hat y(x_j) = c\}|}{|\{j : y_j = c\}|}
    """
    hit = (pred_M == labels_M).double()
    per = []
    for c in range(num_classes):
        m = labels_M == c
        per.append(float(hit[m].mean()) if bool(m.any()) else float("nan"))
    return {"class_fidelity": float(hit.mean()), "class_fidelity_per_class": per}


def inception_score(logits_MC: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    r"""Inception Score (Salimans et al. 2016): mean and std over ``splits`` of

    .. math:: \mathrm{IS} = \exp\Big(\mathbb{E}_x\, \mathrm{KL}\big(p(y\mid x)\,\|\,p(y)\big)\Big).
    """
    p = torch.softmax(logits_MC.detach().double(), dim=-1)
    splits = max(1, min(splits, p.shape[0]))
    scores = []
    for part in torch.tensor_split(p, splits):
        py = part.mean(0, keepdim=True)
        kl = (part * (torch.log(part.clamp_min(1e-30)) - torch.log(py.clamp_min(1e-30)))).sum(1)
        scores.append(math.exp(float(kl.mean())))
    s = np.asarray(scores)
    return float(s.mean()), float(s.std())


def _usage_per_scale(indices: list[torch.Tensor], codebook_size: int) -> list[dict]:
    out = []
    for t in indices:
        u = CodeUsage(codebook_size, exact=True)
        u.update(t)
        s = u.summary()
        out.append({"used_codes": s["used_codes"], "usage_fraction": s["usage_fraction"],
                    "perplexity": s["perplexity"]})
    return out


def _reference_images(dataset: str, fit: str, root: str | None, size: int, channels: int,
                      limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    ds = load_images(dataset, "test", size, channels, fit, root)
    n = len(ds) if limit is None else min(int(limit), len(ds))
    x = torch.stack([ds[i]["image"] for i in range(n)])
    y = torch.tensor([ds[i]["label"] for i in range(n)], dtype=torch.long)
    return x, y


def run(opts: EvalVAROptions) -> int:
    """Sample, measure, write the report (with ``out``) and print it; returns 0."""
    if opts.out:
        check_writable_dir(opts.out)  # before the work, not after
    device = setup_distributed(opts.device).device
    model, saved = load_generator(opts.checkpoint, opts.weights)
    model = model.to(device)
    tok = load_tokenizer_for(saved, model.cfg, opts.tokenizer).to(device)
    data_cfg = (saved.get("config") or {}).get("data", {})
    dataset = opts.data or data_cfg.get("dataset", "fashion-mnist")
    fit = data_cfg.get("fit", "pad") if dataset == "fashion-mnist" else "resize"
    root = opts.data_root or data_cfg.get("root")
    size = tok.config.image_size

    # ---- the feature network and the reference set ----------------------------------------
    if opts.protocol == "fmnist":
        if not opts.classifier:
            raise ValueError("the fmnist protocol needs --classifier FILE (make one with "
                             "`lattiq fmnist-classifier --out FILE`)")
        net, recipe = load_classifier(opts.classifier, map_location=device)
        weak = check_classifier_quality(recipe, opts.classifier,
                                        allow_weak=opts.allow_weak_classifier)
        if weak:
            print(f"warning: {weak} (measuring anyway: --allow-weak-classifier)",
                  file=sys.stderr)
        if recipe["image_size"] != size:
            raise ValueError(f"the classifier was trained on {recipe['image_size']}px images, "
                             f"the tokenizer makes {size}px images")
        real, real_y = _reference_images(dataset, recipe.get("fit", fit), root, size, 1,
                                         opts.real_limit)

        def embed(x):
            return net.embed(match_channels(x, 1))
    else:
        net = load_fid_inception(opts.inception).to(device)
        sd = read_state_dict(opts.inception, "FID Inception")
        fc_w, fc_b = sd.get("fc.weight"), sd.get("fc.bias")
        real, real_y = _reference_images(dataset, "resize", root, size, 3, opts.real_limit)

        def embed(x):
            feats = torch.cat([net(match_channels(x[s : s + 32], 3).to(device)).cpu()
                               for s in range(0, x.shape[0], 32)])
            logits = feats @ fc_w.t().float() + fc_b.float() if fc_w is not None else None
            return feats, logits

    real_f, real_pred = embed(real)
    rs = FeatureStats(real_f.shape[1])
    rs.update(real_f)
    mu_r, cov_r = rs.mean_cov()

    # ---- the sweep --------------------------------------------------------------------------
    gs = list(opts.sweep_guidance) if opts.sweep_guidance else [opts.settings.guidance]
    ks = list(opts.sweep_top_k) if opts.sweep_top_k else [opts.settings.top_k]
    labels = class_labels(None, opts.per_class, model.cfg.num_classes)
    out_dir = Path(opts.out) if opts.out else None
    rows = []
    for g, k in itertools.product(gs, ks):
        st = dataclasses.replace(opts.settings, guidance=g, top_k=k)
        imgs, indices = generate_images(model, tok, labels, st, seed=opts.seed,
                                        batch_size=opts.batch_size, desc=f"sampling w={g} k={k}",
                                        progress=opts.progress)
        row = {"guidance": g, "top_k": k, "images": int(labels.numel())}
        if opts.protocol == "fmnist":
            f, pred = embed(imgs)
            fs = FeatureStats(f.shape[1])
            fs.update(f)
            row["fd_fmnist"] = frechet_distance(mu_r, cov_r, *fs.mean_cov())
            row["precision"], row["recall"] = precision_recall(real_f, f, opts.knn)
            row.update(class_fidelity(pred, labels, model.cfg.num_classes))
        else:
            f, logits = embed(imgs)
            fs = FeatureStats(f.shape[1])
            fs.update(f)
            row["fid"] = frechet_distance(mu_r, cov_r, *fs.mean_cov())
            if logits is not None:
                row["inception_score"], row["inception_score_std"] = inception_score(logits)
            row["precision"], row["recall"] = precision_recall(real_f, f, opts.knn)
        row["usage_per_scale"] = _usage_per_scale(indices, model.cfg.codebook_size)
        rows.append(row)
        if out_dir is not None:
            per = min(opts.per_class, 8)
            pick = torch.cat([torch.arange(c * opts.per_class, c * opts.per_class + per)
                              for c in range(model.cfg.num_classes)])
            score = (f"FD-FMNIST {row['fd_fmnist']:.4g}, class fidelity "
                     f"{row['class_fidelity']:.3f}" if opts.protocol == "fmnist"
                     else f"FID {row['fid']:.4g}")  # fmt: skip
            save_sample_grid(out_dir / f"grid_g{g}_k{k}.png", imgs[pick], labels[pick],
                             dataset=dataset, nrow=per,
                             caption=f"guidance {g}, top-k {k}: {score}")
    report = {
        "protocol": opts.protocol,
        "metric_space": ("Fashion-MNIST classifier features (not ImageNet FID)"
                         if opts.protocol == "fmnist" else "FID Inception-v3 pool3"),
        "checkpoint": str(opts.checkpoint), "weights": opts.weights,
        "reference": {"dataset": dataset, "split": "test", "images": int(real.shape[0]),
                      "fit": fit},
        "per_class": opts.per_class, "knn": opts.knn, "seed": opts.seed,
        "guidance_schedule": opts.settings.guidance_kind, "rows": rows,
    }  # fmt: skip
    if opts.protocol == "fmnist":
        report["classifier"] = {"path": opts.classifier, "recipe": recipe,
                                "accuracy_on_reference": float((real_pred == real_y)
                                                               .double().mean())}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (out_dir / "report.md").write_text(markdown_table(report))
    if opts.json:
        print(json.dumps(report))
    else:
        print(markdown_table(report))
    return 0


def markdown_table(report: dict) -> str:
    """The sweep as a markdown table (one row per setting)."""
    if report["protocol"] == "fmnist":
        cols = [("guidance", "w"), ("top_k", "top-k"), ("fd_fmnist", "FD-FMNIST"),
                ("precision", "precision"), ("recall", "recall"),
                ("class_fidelity", "class fidelity")]
    else:
        cols = [("guidance", "w"), ("top_k", "top-k"), ("fid", "FID"),
                ("inception_score", "IS"), ("precision", "precision"), ("recall", "recall")]
    lines = ["| " + " | ".join(c[1] for c in cols) + " | usage (last scale) |",
             "|" + "---|" * (len(cols) + 1)]
    for r in report["rows"]:
        cells = []
        for key, _ in cols:
            v = r.get(key)
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        last = r["usage_per_scale"][-1]
        cells.append(f"{last['used_codes']} codes, ppl {last['perplexity']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """The script's entry: parse ``argv``, then :func:`run`."""
    from lattiq.commands.var import eval_options  # the command line sits above the library

    return run(eval_options(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
