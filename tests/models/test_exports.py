"""The lazy exports of ``lattiq.models`` resolve to the objects their submodules define."""

import importlib

import pytest

import lattiq.models as models


@pytest.mark.parametrize("name", sorted(models._EXPORTS))
def test_export_resolves_to_submodule_object(name):
    sub = importlib.import_module(f"lattiq.models.{models._EXPORTS[name]}")
    assert getattr(models, name) is getattr(sub, name)
    assert name in dir(models) and name in models.__all__


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        models.NotAModel  # noqa: B018
