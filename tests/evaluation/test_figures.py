"""Labelled image grids and training curves."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lattiq.evaluation import figures as F

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def _images(n, c=1, h=28, w=28, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, c, h, w)).astype(np.float32)


@pytest.mark.parametrize("n,ncol,c,h", [(16, 8, 1, 28), (6, 4, 3, 32), (3, 8, 1, 64)])
def test_grid_upscales_nearest_neighbour_to_min_width(n, ncol, c, h):
    x = _images(n, c, h, h)
    img = F.grid_image(x, ncol, min_width=600, padding=2)
    k = min(ncol, n)
    scale = max(1, math.ceil(600 / (k * (h + 2) + 2)))
    assert img.width >= 600 and (scale == 1 or k * (h + 2) * (scale - 1) < 600)
    arr = np.asarray(img)
    u8 = (np.clip((x + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    u8 = np.repeat(u8, 3, axis=3) if c == 1 else u8
    pad = 2 * scale
    for i in range(n):  # each tile is its image with every pixel a scale x scale block
        r, q = divmod(i, k)
        y0, x0 = pad + r * (h * scale + pad), pad + q * (h * scale + pad)
        tile = arr[y0 : y0 + h * scale, x0 : x0 + h * scale]
        np.testing.assert_array_equal(tile, np.kron(u8[i], np.ones((scale, scale, 1), np.uint8)))


def test_labels_and_caption_take_room_and_ink():
    x = _images(8)
    plain = F.grid_image(x, 4)
    img = F.grid_image(x, 4, row_labels=["original", "reconstruction"],
                       col_labels=list("abcd"), caption="step 10 · PSNR 20 dB")  # fmt: skip
    extra_w, extra_h = img.width - plain.width, img.height - plain.height
    assert extra_w > 40 and extra_h > 20
    a = np.asarray(img.convert("L"))
    assert a[extra_h // 2 :, : extra_w - 4].min() < 128  # label text on the left
    assert a[-extra_h // 2 :, :].min() < 128  # caption text below
    with pytest.raises(ValueError, match="row labels"):
        F.grid_image(x, 4, row_labels=["only one"])
    with pytest.raises(ValueError, match="C in"):
        F.grid_image(np.zeros((2, 2, 8, 8)), 2)


def test_reconstruction_grid_alternates_rows_and_reports_psnr(tmp_path):
    torch = pytest.importorskip("torch")
    from lattiq.evaluation.metrics import psnr

    x = torch.from_numpy(_images(10))
    y = (x + 0.1 * torch.from_numpy(_images(10, seed=1))).clamp(-1, 1)
    p = F.save_reconstruction_grid(tmp_path / "g.png", x, y, ncol=8, caption="step 3")
    img = Image.open(p)
    assert img.width >= 600 and img.height >= 4 * 28 * 3  # four rows of 3x tiles
    want = float(10 * np.log10(4 / np.mean((x.numpy() - y.numpy()) ** 2)))
    assert F._psnr(x.numpy(), y.numpy()) == pytest.approx(want)
    # the pooled PSNR is not the mean of per-image PSNRs, but both are close here
    assert abs(want - float(psnr(y, x).mean())) < 1.0


def test_sample_grid_one_class_per_row(tmp_path):
    x = _images(12, h=32, w=32)
    labels = np.repeat([0, 3, 9], 4)
    p = F.save_sample_grid(tmp_path / "s.png", x, labels, dataset="fashion-mnist",
                           caption="guidance 2")  # fmt: skip
    img = Image.open(p)
    assert img.width >= 600
    assert F.class_names_for("fashion-mnist")[9] == "Ankle boot"
    assert F.class_names_for("natural") is None
    with pytest.raises(ValueError, match="labels"):
        F.save_sample_grid(tmp_path / "t.png", x, labels[:5])


def test_read_log_skips_bad_lines_and_keeps_the_last_record_per_step(tmp_path):
    log = tmp_path / "log.jsonl"
    recs = [{"step": 10, "loss": 2.0, "psnr": 15.0, "time": 1.0},
            {"step": 20, "loss": 1.0, "perplexity": "nan"},
            {"step": 20, "loss": 0.9, "used_codes": 30},  # a resumed run logs step 20 again
            {"step": 30, "loss": float("inf"), "used_codes": 50, "flag": True}]  # fmt: skip
    log.write_text("\n".join(json.dumps(r) for r in recs) + '\n{"step": 40, "lo')
    s = F.read_log(log)
    assert set(s) == {"loss", "psnr", "used_codes"}
    np.testing.assert_array_equal(s["loss"][0], [10, 20])
    np.testing.assert_array_equal(s["loss"][1], [2.0, 0.9])
    np.testing.assert_array_equal(s["used_codes"][0], [20, 30])


def test_training_curves_panels_and_file(tmp_path):
    log = tmp_path / "run" / "log.jsonl"
    log.parent.mkdir()
    assert F.write_training_curves(log) is None  # no log yet
    log.write_text("".join(json.dumps({"step": s, "loss": 1 / s, "l1": 0.5 / s, "aux": 0.0,
                                       "perplexity": 10.0 * s, "used_codes": s}) + "\n"
                           for s in range(10, 110, 10)))  # fmt: skip
    fig = F.plot_training_curves(log)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "codebook perplexity", "used codes"]  # no PSNR logged
    loss_ax = fig.axes[0]
    assert [ln.get_label() for ln in loss_ax.get_lines()] == ["loss", "l1"]  # aux is all 0
    out = F.write_training_curves(log)
    assert out == log.with_name("training_curves.png") and Image.open(out).width >= 600
    # the held-out health keys of a tokenizer run join their panels or get their own
    with log.open("a") as fh:
        fh.write(json.dumps({"step": 200, "loss": 0.01, "perplexity": 2000.0, "used_codes": 150,
                             "health_perplexity": 300.0, "health_used_codes": 900,
                             "health_pos_variance_fraction": 0.2, "health_code_pos_ratio": 1.7,
                             "health_shuffle_drop_db": 12.0}) + "\n")  # fmt: skip
    fig = F.plot_training_curves(log)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "codebook perplexity", "used codes",
                      "position share of latent variance",
                      "code : position norm at decoder input"]  # fmt: skip
    assert [ln.get_label() for ln in fig.axes[1].get_lines()] == ["perplexity",
                                                                  "health_perplexity"]


def test_image_grid(tmp_path):
    x = torch.linspace(-1, 1, 5 * 3 * 4 * 6).reshape(5, 3, 4, 6)
    F.save_image_grid(tmp_path / "g.png", x, nrow=2, padding=1)
    img = np.asarray(Image.open(tmp_path / "g.png"))
    assert img.shape == (3 * 5 + 1, 2 * 7 + 1, 3)
    np.testing.assert_allclose(
        img[1:5, 1:7].transpose(2, 0, 1) / 255.0, ((x[0] + 1) / 2).numpy(), atol=1 / 255
    )
    F.save_image_grid(tmp_path / "g1.png", x[:, :1], nrow=4)
    assert np.asarray(Image.open(tmp_path / "g1.png")).ndim == 2
    with pytest.raises(ValueError, match="C in"):
        F.save_image_grid(tmp_path / "bad.png", torch.zeros(1, 2, 4, 4))
