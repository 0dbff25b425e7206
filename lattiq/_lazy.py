"""Lazy package exports (PEP 562): a package's public names load their module on first use.

A package lists ``public name -> module that defines it`` and gets its module-level
``__getattr__`` and ``__dir__`` from :func:`lazy_exports`::

    _EXPORTS = {"Lattice": ".lattice", "get_lattice": ".registry"}
    __all__ = sorted(_EXPORTS)
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

so that ``import lattiq.lattices`` costs nothing until a name is used and the ``lattiq``
command starts without importing numpy, numba or torch. This module imports only the
standard library's ``importlib`` and ``warnings`` (both loaded with the interpreter).
"""

from __future__ import annotations

import importlib
import warnings

TYPE_CHECKING = False
if TYPE_CHECKING:  # (importing typing would cost start-up milliseconds for annotations only)
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any],
    exports: Mapping[str, str],
    *,
    submodules: bool = False,
    on_first_use: Callable[[], None] | None = None,
    moved: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``(__getattr__, __dir__)`` pair of a package with lazily imported names.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()``: a name, once loaded, is stored there, so later lookups
        no longer reach ``__getattr__``.
    exports : mapping
        Public name -> module that defines it, relative to the package (``".lattice"``) or
        absolute (``"lattiq.models.var"``).
    submodules : bool
        Serve a submodule not imported yet as an attribute (``lattiq.spherecodes.bounds``).
    on_first_use : callable, optional
        Called before each exported name is loaded (e.g. to announce numba compiles).
    moved : mapping, optional
        Name -> module it moved to: still served, with a ``DeprecationWarning``, but not
        stored in the namespace (each use warns) and not listed by ``__dir__``.
    """
    package = namespace["__name__"]
    moved = moved or {}

    def __getattr__(name: str) -> Any:
        if name in exports:
            if on_first_use is not None:
                on_first_use()
            value = getattr(importlib.import_module(exports[name], package), name)
            namespace[name] = value
            return value
        if name in moved:
            warnings.warn(f"{package}.{name} moved to {moved[name]}.{name}; the old name "
                          "goes in the next release", DeprecationWarning, stacklevel=2)  # fmt: skip
            return getattr(importlib.import_module(moved[name]), name)
        if submodules:
            try:
                return importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as err:
                if err.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
