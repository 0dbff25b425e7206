"""`lattiq eval-var` and its metrics: precision/recall against brute force, class fidelity,
Inception Score on known distributions, the classifier recipe, and both protocols end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import var_fixtures as vf
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.evaluation.eval_var import class_fidelity, inception_score, knn_radii, precision_recall


def _pr_brute(real, fake, k):
    real, fake = real.numpy(), fake.numpy()

    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]  # index 0 is the point itself

    def covered(q, ref, r):
        return np.mean([any(np.linalg.norm(p - ref[i]) <= r[i] for i in range(len(ref)))
                        for p in q])

    return covered(fake, real, radii(real)), covered(real, fake, radii(fake))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(5, 25), m=st.integers(5, 25), k=st.integers(1, 4),
       shift=st.floats(0, 3), seed=st.integers(0, 1000))
def test_precision_recall_brute_force(n, m, k, shift, seed):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(n, 3, generator=g, dtype=torch.float64)
    fake = torch.randn(m, 3, generator=g, dtype=torch.float64) + shift
    p, r = precision_recall(real, fake, k)
    bp, br = _pr_brute(real, fake, k)
    assert p == pytest.approx(bp) and r == pytest.approx(br)


def test_precision_recall_identical_sets_and_disjoint():
    x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    assert precision_recall(x, x.clone(), 3) == (1.0, 1.0)
    assert precision_recall(x, x + 100.0, 3) == (0.0, 0.0)
    with pytest.raises(ValueError, match="k must be"):
        knn_radii(x[:3], 3)


def test_class_fidelity():
    pred = torch.tensor([0, 1, 1, 2, 2, 2])
    lab = torch.tensor([0, 0, 1, 2, 2, 1])
    out = class_fidelity(pred, lab, 4)
    assert out["class_fidelity"] == pytest.approx(4 / 6)
    assert out["class_fidelity_per_class"][:3] == [0.5, 0.5, 1.0]
    assert math.isnan(out["class_fidelity_per_class"][3])


def test_inception_score_known_values():
    # confident and uniform over C classes: IS = C; all the same class: IS = 1
    C = 7
    confident = torch.full((70, C), -50.0)
    confident[torch.arange(70), torch.arange(70) % C] = 50.0
    assert inception_score(confident, splits=1)[0] == pytest.approx(C, rel=1e-9)
    same = torch.zeros(20, C)
    same[:, 0] = 50.0
    assert inception_score(same, splits=2)[0] == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from lattiq.evaluation.fmnist_classifier import main as cls_main
    from lattiq.training.train_var import main

    root = tmp_path_factory.mktemp("evalvar")
    fm = vf.write_fake_fmnist(root / "fmnist", n_train=200, n_test=40)
    tok = vf.make_tokenizer_checkpoint(root / "tok", code="leech")
    run = root / "run"
    assert main(["--tokenizer", str(tok), "--match-tokenizer", "--out", str(run),
                 "--no-progress", "--set", f"data.root={fm}", "--set", "batch_size=4",
                 "--set", "steps=2", "--set", "sample_every=0", "--set", "model.head=dit",
                 "--set", "data.limit=16"]) == 0
    cls = root / "cls.safetensors"
    assert cls_main(["--out", str(cls), "--root", str(fm), "--epochs", "3", "--batch-size",
                     "32", "--json"]) == 0
    return {"root": root, "run": run, "fm": fm, "cls": cls}


def test_classifier_recipe_and_accuracy(trained):
    from lattiq.evaluation.fmnist_classifier import load_classifier

    model, meta = load_classifier(trained["cls"])
    assert meta["arch"] == "fmnist-cnn-v1" and meta["fit"] == "pad" and meta["image_size"] == 32
    assert meta["test_accuracy"] > 0.5  # the fake classes are a visible bar: easy
    f = model.features(torch.zeros(2, 1, 32, 32))
    assert f.shape == (2, 128)
    with pytest.raises(FileNotFoundError, match="fmnist-classifier"):
        load_classifier(trained["root"] / "nothing.safetensors")


def test_eval_fmnist_protocol(trained, capsys):
    from lattiq.evaluation.eval_var import main

    out = trained["root"] / "eval"
    rc = main([str(trained["run"]), "--classifier", str(trained["cls"]), "--per-class", "1",
               "--knn", "2", "--sweep-guidance", "1,3", "--sweep-top-k", "0,20", "--out",
               str(out), "--json", "--allow-weak-classifier"])  # 200 training images: weak
    assert rc == 0
    cap = capsys.readouterr()
    assert "below 80%" in cap.err and "--allow-weak-classifier" in cap.err
    rep = json.loads(cap.out)
    assert rep["classifier"]["recipe"]["test_accuracy"] < 0.8
    assert rep["metric_space"].startswith("Fashion-MNIST classifier features")
    assert [(r["guidance"], r["top_k"]) for r in rep["rows"]] == [(1.0, 0), (1.0, 20),
                                                                   (3.0, 0), (3.0, 20)]
    for r in rep["rows"]:
        assert r["fd_fmnist"] >= 0 and 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
        assert len(r["class_fidelity_per_class"]) == 10 and r["images"] == 10
        assert [u["used_codes"] for u in r["usage_per_scale"]][0] <= 10
    assert (out / "report.md").read_text().startswith("| w | top-k | FD-FMNIST")
    assert (out / "grid_g3.0_k20.png").is_file()
    with pytest.raises(ValueError, match="--classifier"):
        main([str(trained["run"])])


def _with_recipe(src: Path, dst: Path, **changes) -> Path:
    """A copy of a classifier file with its stored recipe changed (``None`` deletes a key)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(src), framework="pt") as fh:
        meta = json.loads(fh.metadata()["lattiq_classifier"])
    for k, v in changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    save_file(load_file(str(src)), str(dst), metadata={"lattiq_classifier": json.dumps(meta)})
    return dst


def test_eval_refuses_weak_and_unknown_classifiers(trained):
    from lattiq.evaluation.eval_var import main
    from lattiq.evaluation.fmnist_classifier import MIN_ACCURACY, load_classifier

    acc = load_classifier(trained["cls"])[1]["test_accuracy"]
    assert acc < MIN_ACCURACY  # the fixture's classifier saw 200 images
    args = [str(trained["run"]), "--per-class", "1", "--knn", "2"]
    with pytest.raises(ValueError, match=rf"test accuracy {acc:.1%} \(trained on 200 images\)"
                                         r", below 80%.*--allow-weak-classifier"):
        main([*args, "--classifier", str(trained["cls"])])
    good = _with_recipe(trained["cls"], trained["root"] / "good.safetensors",
                        test_accuracy=0.85)
    assert main([*args, "--classifier", str(good)]) == 0
    old = _with_recipe(trained["cls"], trained["root"] / "old.safetensors", test_accuracy=None,
                       train_images=None)
    for extra in ([], ["--allow-weak-classifier"]):
        with pytest.raises(ValueError, match=r"stores no test accuracy .* retrain it with "
                                             r"`lattiq fmnist-classifier --out .*old"):
            main([*args, "--classifier", str(old), *extra])


def test_classifier_command_checks_its_arguments_and_output_first(trained, tmp_path):
    from lattiq.evaluation.fmnist_classifier import main as cls_main

    with pytest.raises(ValueError, match="limit must be at least 1 image, got 0"):
        cls_main(["--out", str(tmp_path / "c.safetensors"), "--limit", "0"])
    before = trained["cls"].read_bytes()
    with pytest.raises(ValueError, match="already exists; pass --overwrite"):
        cls_main(["--out", str(trained["cls"]), "--root", str(trained["fm"])])
    assert trained["cls"].read_bytes() == before
    with pytest.raises(ValueError, match="is a directory"):
        cls_main(["--out", str(tmp_path), "--root", str(trained["fm"])])
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(before)
    assert cls_main(["--out", str(copy), "--root", str(trained["fm"]), "--epochs", "1",
                     "--limit", "32", "--overwrite"]) == 0  # fmt: skip
    from lattiq.evaluation.fmnist_classifier import load_classifier

    meta = load_classifier(copy)[1]
    assert meta["train_images"] == 32 and meta["test_images"] == 40 and meta["epochs"] == 1


def test_unwritable_outputs_are_refused_before_the_work(trained, tmp_path, capsys):
    from lattiq.evaluation.eval_var import main as eval_main
    from lattiq.evaluation.sample_images import main as sample_main

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="cannot write to directory .*a-file/out"):
        eval_main([str(trained["run"]), "--classifier", str(trained["cls"]), "--out",
                   str(blocker / "out")])  # fmt: skip
    with pytest.raises(NotADirectoryError, match="cannot write to directory"):
        sample_main([str(trained["run"]), "--out", str(blocker / "out")])
    assert capsys.readouterr().err == ""  # nothing was loaded or generated first


def _photo_folder(trained):
    from PIL import Image

    folder = trained["root"] / "photos"
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for c in ("a", "b"):
            (folder / split / c).mkdir(parents=True, exist_ok=True)
            for i in range(3):
                arr = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
                Image.fromarray(arr).save(folder / split / c / f"{i}.png")
    return folder


class _TinyFeatures(torch.nn.Module):
    """Stands in for Inception in the fast test: (B, 3, H, W) -> (B, 2048)."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3 * 8 * 8, 2048)

    def forward(self, x):
        return self.proj(torch.nn.functional.adaptive_avg_pool2d(x, 8).flatten(1))


def test_eval_imagenet_protocol_plumbing(trained, capsys, monkeypatch):
    # the FID/IS code path with a small stand-in network (the real one: the slow test below)
    from safetensors.torch import save_file

    import lattiq.evaluation.eval_var as ev
    from lattiq.evaluation.eval_var import main

    torch.manual_seed(0)
    w = trained["root"] / "fake_inception.safetensors"
    save_file({"fc.weight": torch.randn(1008, 2048) * 0.01, "fc.bias": torch.zeros(1008)},
              str(w))
    monkeypatch.setattr(ev, "load_fid_inception", lambda path: _TinyFeatures())
    folder = _photo_folder(trained)
    rc = main([str(trained["run"]), "--protocol", "imagenet", "--inception", str(w),
               "--data", f"folder:{folder}", "--per-class", "1", "--knn", "2", "--json"])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    row = rep["rows"][0]
    assert row["fid"] >= 0 and row["inception_score"] >= 1.0 - 1e-9
    assert rep["reference"]["images"] == 6 and rep["metric_space"] == "FID Inception-v3 pool3"


@pytest.mark.slow
def test_eval_imagenet_protocol_with_local_inception(trained, capsys):
    # weights the test makes: a randomly initialized FID Inception plus an fc layer
    from safetensors.torch import save_file

    from lattiq.evaluation.eval_var import main
    from lattiq.evaluation.inception import FIDInceptionV3

    torch.manual_seed(0)
    sd = {k: v.contiguous() for k, v in FIDInceptionV3().state_dict().items()}
    sd["fc.weight"] = torch.randn(1008, 2048) * 0.01
    sd["fc.bias"] = torch.zeros(1008)
    w = trained["root"] / "inception.safetensors"
    save_file(sd, str(w))
    folder = _photo_folder(trained)
    rc = main([str(trained["run"]), "--protocol", "imagenet", "--inception", str(w),
               "--data", f"folder:{folder}", "--per-class", "1", "--json"])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    row = rep["rows"][0]
    assert row["fid"] >= 0 and row["inception_score"] >= 1.0 - 1e-9
    assert rep["reference"]["images"] == 6
