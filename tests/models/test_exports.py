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
