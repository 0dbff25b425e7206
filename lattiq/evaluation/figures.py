"""Pictures of training runs: labelled image grids and training curves.

Shape legend: ``B`` images, ``C`` channels (1 or 3), ``H``, ``W`` image height and width.

* :func:`grid_image` lays images out in rows, upscaled by an integer factor with
  nearest-neighbour resampling (pixels stay sharp squares) until the grid is at least
  ``min_width`` pixels wide, with optional row labels on the left, column labels on top and
  a caption below (Pillow);
* :func:`save_reconstruction_grid` shows originals and reconstructions in alternating,
  labelled rows, with the PSNR of the images shown in the caption;
* :func:`save_sample_grid` shows generated images one class per row, labelled with the
  class name;
* :func:`plot_training_curves` draws the metrics of a run's ``log.jsonl`` — loss terms,
  PSNR, codebook perplexity, used codes, whichever are logged — against the step
  (matplotlib's object-oriented API, no pyplot) and writes ``training_curves.png`` beside it.

PSNR of images in ``[-1, 1]`` (peak-to-peak 2):

.. math:: \\mathrm{PSNR} = 10 \\log_{10} \\frac{2^2}{\\mathrm{MSE}}
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw, ImageFont

from lattiq.data.fashion_mnist import CLASSES

__all__ = [
    "class_names_for",
    "grid_image",
    "plot_training_curves",
    "read_log",
    "save_image_grid",
    "save_reconstruction_grid",
    "save_sample_grid",
    "write_training_curves",
]

#: Width (pixels) the image tiles of a grid are upscaled to reach, at least.
MIN_WIDTH = 600


def class_names_for(dataset: str | None) -> list[str] | None:
    """Class names of a dataset (Fashion-MNIST's ten), or ``None`` when it has none."""
    if dataset == "fashion-mnist":
        return list(CLASSES)
    return None


# --------------------------------------------------------------------------------- grids


def _to_uint8(images, value_range: tuple[float, float]) -> np.ndarray:
    """(B, C, H, W) tensor or array in ``value_range`` -> (B, H, W, 3) uint8."""
    x = images.detach().float().cpu().numpy() if hasattr(images, "detach") else np.asarray(
        images, dtype=np.float32)  # fmt: skip
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images (B, C, H, W) with C in (1, 3), got {x.shape}")
    lo, hi = value_range
    if not hi > lo:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}")
    x = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    x = (x * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    return np.repeat(x, 3, axis=3) if x.shape[3] == 1 else x


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _text_size(draw, text: str, font) -> tuple[int, int]:
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    return x1 - x0, y1 - y0


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split(" "):
            trial = f"{cur} {word}".strip()
            if cur and _text_size(draw, trial, font)[0] > width:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        lines.append(cur)
    return lines


def grid_image(
    images,
    nrow: int = 8,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    caption: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    min_width: int = MIN_WIDTH,
    padding: int = 2,
):
    """A PIL image of ``images`` (B, C, H, W), ``nrow`` per row, labelled.

    Parameters
    ----------
    images : tensor or array (B, C, H, W), C in (1, 3)
    nrow : int
        Images per row.
    row_labels, col_labels : sequence of str, optional
        One label per row (drawn left of it) / per column (drawn above it).
    caption : str, optional
        Text below the grid (wrapped to its width).
    value_range : (low, high)
        Pixel values mapped to black and white.
    min_width : int
        The tiles are upscaled by the smallest integer factor (nearest neighbour) that makes
        them at least this many pixels wide together.
    padding : int
        Pixels between tiles, before upscaling.
    """
    x = _to_uint8(images, value_range)  # (B, H, W, 3)
    b, h, w, _ = x.shape
    if b == 0:
        raise ValueError("no images to draw")
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    ncol = min(nrow, b)
    nr = math.ceil(b / ncol)
    if row_labels is not None and len(row_labels) != nr:
        raise ValueError(f"{len(row_labels)} row labels for {nr} rows")
    if col_labels is not None and len(col_labels) != ncol:
        raise ValueError(f"{len(col_labels)} column labels for {ncol} columns")
    scale = max(1, math.ceil(min_width / (ncol * (w + padding) + padding)))
    th, tw, pad = h * scale, w * scale, padding * scale
    tiles_w, tiles_h = ncol * (tw + pad) + pad, nr * (th + pad) + pad

    font = _font(max(12, min(20, th // 4)))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = _text_size(probe, "Ag", font)[1] + 6
    left = (max(_text_size(probe, s, font)[0] for s in row_labels) + 16) if row_labels else 0
    top = line_h + 4 if col_labels else 0
    cap_lines = _wrap(probe, caption, font, left + tiles_w - 16) if caption else []
    bottom = len(cap_lines) * line_h + 10 if cap_lines else 0

    canvas = Image.new("RGB", (left + tiles_w, top + tiles_h + bottom), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([left, top, left + tiles_w - 1, top + tiles_h - 1], fill=(200, 200, 200))
    for i in range(b):
        r, c = divmod(i, ncol)
        tile = Image.fromarray(x[i]).resize((tw, th), Image.NEAREST)
        canvas.paste(tile, (left + pad + c * (tw + pad), top + pad + r * (th + pad)))
    for r, text in enumerate(row_labels or ()):
        tw_, th_ = _text_size(draw, text, font)
        y = top + pad + r * (th + pad) + (th - th_) // 2
        draw.text((left - 8 - tw_, y), text, fill="black", font=font)
    for c, text in enumerate(col_labels or ()):
        tw_, _ = _text_size(draw, text, font)
        draw.text((left + pad + c * (tw + pad) + (tw - tw_) // 2, 2), text, fill="black",
                  font=font)  # fmt: skip
    for k, text in enumerate(cap_lines):
        draw.text((8, top + tiles_h + 6 + k * line_h), text, fill=(40, 40, 40), font=font)
    return canvas


def _save(img, path: str | os.PathLike) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}.png")
    img.save(tmp)
    os.replace(tmp, p)
    return p


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(4.0 / mse)


def save_reconstruction_grid(
    path: str | os.PathLike,
    originals,
    reconstructions,
    *,
    ncol: int = 8,
    caption: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Path:
    """Originals and their reconstructions in alternating labelled rows, ``ncol`` per row.

    The caption gets the PSNR of the images shown (appended to ``caption``).
    """
    xo, xr = originals, reconstructions
    if tuple(xo.shape) != tuple(xr.shape):
        raise ValueError(f"originals {tuple(xo.shape)} and reconstructions {tuple(xr.shape)} "
                         "differ in shape")  # fmt: skip
    n = int(xo.shape[0])
    ncol = max(1, min(ncol, n))
    a = xo.detach().float().cpu().numpy() if hasattr(xo, "detach") else np.asarray(xo, float)
    r = xr.detach().float().cpu().numpy() if hasattr(xr, "detach") else np.asarray(xr, float)
    lo, hi = value_range
    scale = 2.0 / (hi - lo)  # PSNR on the [-1, 1] scale
    psnr = _psnr(np.clip(a, lo, hi) * scale, np.clip(r, lo, hi) * scale)
    rows, labels = [], []
    for s in range(0, n, ncol):
        k = min(ncol, n - s)
        pad = [np.full((ncol - k, *a.shape[1:]), lo, dtype=a.dtype)] if k < ncol else []
        rows += [np.concatenate([a[s : s + k], *pad]), np.concatenate([r[s : s + k], *pad])]
        labels += ["original", "reconstruction"]
    text = f"PSNR {psnr:.2f} dB over these {n} images"
    text = f"{caption} · {text}" if caption else text
    img = grid_image(np.concatenate(rows), ncol, row_labels=labels, caption=text,
                     value_range=value_range)  # fmt: skip
    return _save(img, path)


def save_sample_grid(
    path: str | os.PathLike,
    images,
    labels,
    *,
    class_names: Sequence[str] | None = None,
    dataset: str | None = None,
    nrow: int | None = None,
    caption: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Path:
    """Generated images one class per row (class-major ``labels``), rows labelled by class.

    Class ``c`` is labelled ``class_names[c]``, else by the names of ``dataset``
    (:func:`class_names_for`), else ``"class c"``. ``nrow`` (images per row) defaults to the
    number of images of the first class; when a row holds more than one class its label
    lists them (``"Coat, Sandal"``).
    """
    lab = [int(v) for v in (labels.tolist() if hasattr(labels, "tolist") else labels)]
    if len(lab) != int(images.shape[0]):
        raise ValueError(f"{len(lab)} labels for {int(images.shape[0])} images")
    if nrow is None:
        nrow = next((i for i, v in enumerate(lab) if v != lab[0]), len(lab)) or 1
    names = list(class_names) if class_names is not None else class_names_for(dataset)

    def name(c: int) -> str:
        return names[c] if names is not None and 0 <= c < len(names) else f"class {c}"

    row_labels = []
    for s in range(0, len(lab), nrow):
        seen = list(dict.fromkeys(lab[s : s + nrow]))
        row_labels.append(", ".join(name(c) for c in seen))
    img = grid_image(images, nrow, row_labels=row_labels, caption=caption,
                     value_range=value_range)  # fmt: skip
    return _save(img, path)


# ------------------------------------------------------------------------ training curves

#: Panels of the training-curve figure: (title, log keys drawn in it); a panel whose keys
#: are all absent from the log is left out. ``health_*`` keys are the tokenizer's held-out
#: codebook health (``lattiq.evaluation.health``), drawn beside the training-window values.
CURVE_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loss", ("loss", "l1", "ce", "lpips", "vf", "g_loss", "d_loss", "aux")),
    ("PSNR (dB)", ("psnr", "health_psnr", "health_psnr_shuffled")),
    ("codebook perplexity", ("perplexity", "health_perplexity")),
    ("used codes", ("used_codes", "health_used_codes")),
    ("position share of latent variance", ("health_pos_variance_fraction",)),
    ("code : position norm at decoder input", ("health_code_pos_ratio",)),
    ("input content : position norm", ("input_content_position_ratio",)),
)


def read_log(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{key: (steps, values)}`` of the numeric keys of a ``log.jsonl``.

    Lines that do not parse (a line being written) and non-finite values are skipped; when
    a step appears twice (a resumed run), the later record wins.
    """
    by_step: dict[int, dict] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("step"), int):
                by_step[rec["step"]] = rec
    out: dict[str, tuple[list, list]] = {}
    for step in sorted(by_step):
        for k, v in by_step[step].items():
            if k in ("step", "time") or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if math.isfinite(v):
                out.setdefault(k, ([], []))
                out[k][0].append(step)
                out[k][1].append(float(v))
    return {k: (np.asarray(s), np.asarray(v)) for k, (s, v) in out.items()}


def plot_training_curves(
    log: str | os.PathLike | Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    panels=CURVE_PANELS,
):
    """Figure of the logged metrics against the step, one panel per kind (see
    :data:`CURVE_PANELS`); returns the matplotlib Figure, or ``None`` when nothing is
    logged yet. Written to ``path`` as PNG when given."""
    series = read_log(log) if not isinstance(log, Mapping) else dict(log)
    # a term that is zero throughout (no auxiliary loss, say) is left out
    chosen = [(t, [k for k in keys if k in series and np.any(series[k][1] != 0)])
              for t, keys in panels]  # fmt: skip
    chosen = [(t, ks) for t, ks in chosen if ks]
    if not chosen:
        return None
    n = len(chosen)
    ncols = 2 if n > 1 else 1
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(5.2 * ncols if ncols > 1 else 6.4, 3.4 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (t, keys) in enumerate(chosen):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for k in keys:
            steps, vals = series[k]
            ax.plot(steps, vals, marker="o" if len(steps) < 20 else None, ms=3, lw=1.4,
                    label=k)  # fmt: skip
        positive = all(float(series[k][1].min()) > 0 for k in keys)
        spread = max(float(series[k][1].max()) for k in keys) / max(
            min(float(series[k][1].min()) for k in keys), 1e-300)
        if t == "loss" and positive and spread > 20:
            ax.set_yscale("log")
        ax.set_title(t)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=8)
    last = max(int(series[k][0][-1]) for _, ks in chosen for k in ks)
    fig.suptitle(f"{title + ': ' if title else ''}training curves up to step {last:,}")
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}.png")
        fig.savefig(tmp, dpi=100, format="png")
        os.replace(tmp, p)
    return fig


def write_training_curves(log_path: str | os.PathLike) -> Path | None:
    """Draw ``training_curves.png`` beside ``log_path`` (a run's ``log.jsonl``).

    Called at each checkpoint; returns the PNG's path, or ``None`` if nothing is logged yet.
    A figure that fails to draw must not stop training: errors are reported, not raised.
    """
    log_path = Path(log_path)
    if not log_path.is_file():
        return None
    out = log_path.with_name("training_curves.png")
    try:
        fig = plot_training_curves(log_path, out, title=log_path.parent.name)
    except (OSError, ValueError) as err:
        print(f"warning: training curves not drawn: {err}", file=sys.stderr)
        return None
    return out if fig is not None else None


def save_image_grid(
    path: str | os.PathLike,
    images: torch.Tensor,
    nrow: int = 8,
    value_range: tuple[float, float] = (-1.0, 1.0),
    padding: int = 2,
) -> None:
    """Save a (B, C, H, W) batch (C = 1 or 3) as one PNG grid, ``nrow`` images per row."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"expected images (B, C, H, W) with C in (1, 3), got {tuple(images.shape)}"
        )
    lo, hi = value_range
    x = ((images.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
    b, c, h, w = x.shape
    ncol = min(nrow, b)
    nr = math.ceil(b / ncol)
    grid = torch.ones(c, nr * (h + padding) + padding, ncol * (w + padding) + padding)
    for i in range(b):
        r, q = divmod(i, ncol)
        y0, x0 = padding + r * (h + padding), padding + q * (w + padding)
        grid[:, y0 : y0 + h, x0 : x0 + w] = x[i]
    arr = (grid.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    if c == 1:
        arr = arr[:, :, 0]
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}.png")
    Image.fromarray(arr).save(tmp)
    os.replace(tmp, p)
