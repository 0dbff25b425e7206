"""The lazy exports of lattiq's packages (``lattiq._lazy``), on a throwaway package built in a
temporary directory: names load on first use and are then stored, submodules are served
when asked for, moved names warn on every use, unknown names raise AttributeError."""

from __future__ import annotations

import importlib
import sys

import pytest

from lattiq._lazy import lazy_exports


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    """A package ``lazypkg`` with submodules ``a`` (a name), ``b`` (a submodule only),
    ``broken`` (imports a missing module) and ``elsewhere`` (a moved name's new home)."""
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("VALUE = object()\nLOADS = []\n")
    (root / "b.py").write_text("B = 2\n")
    (root / "broken.py").write_text("import lazypkg_no_such_dependency\n")
    (root / "elsewhere.py").write_text("OLD = 'old'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("lazypkg")
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        del sys.modules[name]


def _install(pkg, **kw):
    calls = []
    ns = vars(pkg)
    ns["__getattr__"], ns["__dir__"] = lazy_exports(
        ns, {"VALUE": ".a"}, on_first_use=lambda: calls.append(1), **kw
    )
    return calls


def test_a_name_loads_once_and_is_then_stored(pkg):
    calls = _install(pkg)
    assert "lazypkg.a" not in sys.modules and "VALUE" in dir(pkg)
    value = pkg.VALUE
    assert value is sys.modules["lazypkg.a"].VALUE and calls == [1]
    assert pkg.VALUE is value and calls == [1]  # stored: __getattr__ not asked again
    assert vars(pkg)["VALUE"] is value


def test_absolute_module_names_resolve(pkg):
    ns = vars(pkg)
    ns["__getattr__"], _ = lazy_exports(ns, {"B": "lazypkg.b"})
    assert pkg.B == 2


def test_submodules_only_when_asked(pkg):
    _install(pkg)
    with pytest.raises(AttributeError, match="module 'lazypkg' has no attribute 'b'"):
        pkg.b  # noqa: B018
    _install(pkg, submodules=True)
    assert pkg.b.B == 2
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        pkg.nothing  # noqa: B018
    # a submodule that exists but fails to import shows its own error, not AttributeError
    with pytest.raises(ModuleNotFoundError, match="lazypkg_no_such_dependency"):
        pkg.broken  # noqa: B018


def test_moved_names_warn_every_time_and_are_not_listed(pkg):
    _install(pkg, moved={"OLD": "lazypkg.elsewhere"})
    for _ in range(2):
        with pytest.warns(DeprecationWarning, match="lazypkg.OLD moved to lazypkg.elsewhere.OLD"):
            assert pkg.OLD == "old"
    assert "OLD" not in dir(pkg) and "OLD" not in vars(pkg)
