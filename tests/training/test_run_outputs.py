"""What the model commands leave behind for a person: progress on stderr for every long step
(plain lines when stderr is not a terminal; silent with --no-progress), labelled grids and
training curves in the run directory."""

from __future__ import annotations

import pytest
import var_fixtures as vf

pytest.importorskip("torch")



@pytest.fixture(autouse=True)
def _lines(monkeypatch):
    monkeypatch.setenv("LATTIQ_PROGRESS", "lines")
    monkeypatch.setenv("LATTIQ_PROGRESS_EVERY", "0")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress")
    fm = vf.write_fake_fmnist(root / "fmnist", n_train=48, n_test=24)
    tok = vf.make_tokenizer_checkpoint(root / "tok", code="leech")
    return {"root": root, "fm": fm, "tok": tok}


def _lines_with(err: str, head: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith(head)]


def test_train_var_token_cache_and_final_sampling(env, capsys, monkeypatch):
    from lattiq.training.train_var import main

    monkeypatch.setenv("LATTIQ_PROGRESS", "lines")
    run = env["root"] / "var"
    assert main(["--tokenizer", str(env["tok"]), "--match-tokenizer", "--out", str(run),
                 "--set", f"data.root={env['fm']}", "--set", "batch_size=4",
                 "--set", "steps=2", "--set", "sample_every=2", "--set", "model.head=dit",
                 "--set", "data.encode_batch=16"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    cache = _lines_with(err, "token cache: ")
    assert any(ln.startswith("token cache: 16/48 images") for ln in cache), err
    assert cache[-1].startswith("token cache: 48/48 images") and cache[-1].endswith("done")
    sampling = _lines_with(err, "sampling: ")
    # 10 classes x 4 images x (1 + 4 + 16) tokens, scale by scale
    assert sampling and sampling[-1].startswith("sampling: 840/840 tokens")
    assert _lines_with(err, "train: ")[-1].startswith("train: 2/2 steps")
    env["run"] = run
    from PIL import Image

    grid = Image.open(run / "samples" / "step_00000002.png")
    assert grid.width >= 600 and grid.height > grid.width  # ten rows, one class each
    assert Image.open(run / "training_curves.png").width >= 600


def test_sample_and_no_progress(env, capsys):
    from lattiq.evaluation.sample_images import main

    if "run" not in env:
        pytest.skip("needs the train-var run")
    args = [str(env["run"]), "--out", str(env["root"] / "s"), "--per-class", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert _lines_with(err, "sampling: ")[0].startswith("sampling: 10/210 tokens")
    assert main([*args, "--no-progress"]) == 0
    assert "sampling:" not in capsys.readouterr().err


def test_eval_tokenizer_counts_images(env, capsys):
    from lattiq.data import get_dataset
    from lattiq.evaluation.eval_tokenizer import main

    try:
        get_dataset("fashion-mnist", "test", 32)
    except (FileNotFoundError, OSError) as e:
        pytest.skip(f"Fashion-MNIST not installed: {e}")
    # the tokenizer fixture names no dataset: give it
    assert main([str(env["tok"]), "--data", "fashion-mnist", "--limit", "24", "--batch-size",
                 "10", "--out", str(env["root"] / "ev")]) == 0  # fmt: skip
    lines = _lines_with(capsys.readouterr().err, "eval-tokenizer: ")
    assert lines[0].startswith("eval-tokenizer: 10/24 images")
    assert lines[-1].startswith("eval-tokenizer: 24/24 images") and lines[-1].endswith("done")


def test_classifier_counts_batches(env, capsys):
    from lattiq.evaluation.fmnist_classifier import main

    assert main(["--out", str(env["root"] / "cls.safetensors"), "--root", str(env["fm"]),
                 "--epochs", "2", "--batch-size", "16"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    lines = _lines_with(err, "classifier: ")
    assert lines[0].startswith("classifier: 1/6 batches") and "epoch 1/2" in lines[0]
    assert lines[-1].startswith("classifier: 6/6 batches")
    assert "epoch 2/2: train loss" in err


def test_train_tokenizer_grid_curves_and_progress(env, capsys):
    from PIL import Image

    from lattiq.training.train_tokenizer import main

    run = env["root"] / "tok-run"
    assert main(["--out", str(run), "--set", "data.name=fashion-mnist",
                 "--set", f"data.root={env['fm']}", "--set", "model.image_size=28",
                 "--set", "model.channels=1", "--set", "model.patch_size=7",
                 "--set", "model.width=32", "--set", "model.depth=1",
                 "--set", "model.quantizer.code=e8", "--set", "batch_size=4",
                 "--set", "steps=2", "--set", "log_every=1", "--set", "image_every=2",
                 "--set", "ckpt_every=2"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert _lines_with(err, "train: ")[-1].startswith("train: 2/2 steps")
    grid = Image.open(run / "images" / "step_00000002.png")
    assert grid.width >= 600  # 28 px images, 8 a row, upscaled 3x, with row labels
    assert Image.open(run / "training_curves.png").width >= 600
