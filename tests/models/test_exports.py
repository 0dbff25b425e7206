"""The lazy exports of ``lattiq.models`` resolve to the objects their modules define; names
that moved out of the package still resolve, with a DeprecationWarning."""

import importlib

import pytest

import lattiq.models as models


@pytest.mark.parametrize("name", sorted(models._EXPORTS))
def test_export_resolves_to_module_object(name):
    mod = importlib.import_module(models._EXPORTS[name])
    assert getattr(models, name) is getattr(mod, name)
    assert name in dir(models) and name in models.__all__


@pytest.mark.parametrize("name", sorted(models._MOVED))
def test_moved_name_warns_and_resolves(name):
    with pytest.warns(DeprecationWarning, match=f"moved to {models._MOVED[name]}"):
        value = getattr(models, name)
    assert value is getattr(importlib.import_module(models._MOVED[name]), name)
    assert name not in models.__all__


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        models.NotAModel  # noqa: B018


@pytest.mark.parametrize("name", ["train_tokenizer", "train_var"])
def test_old_entry_points_warn_and_serve_the_new_modules(name):
    import sys

    sys.modules.pop(f"lattiq.models.{name}", None)
    with pytest.warns(DeprecationWarning, match=f"moved to lattiq.training.{name}"):
        old = importlib.import_module(f"lattiq.models.{name}")
    new = importlib.import_module(f"lattiq.training.{name}")
    assert old.__all__ == new.__all__ and "main" in new.__all__
    assert all(getattr(old, n) is getattr(new, n) for n in new.__all__)


def test_old_torchrun_line_still_runs():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "lattiq.models.train_tokenizer", "--print-config",
                        "--set", "steps=3"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert '"steps": 3' in r.stdout and "DeprecationWarning" in r.stderr
