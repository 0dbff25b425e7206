"""The layering of docs/architecture.md, checked on the source: each part of lattiq imports
only the parts below it, and the library never imports its command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lattiq"

_MATH = {"lattices", "spherecodes"}
_TORCH = _MATH | {"quantizers", "models", "runtime", "data"}
#: part -> the parts of lattiq it may import (besides itself and the small shared modules)
ALLOWED = {
    "lattices": set(),
    "spherecodes": {"lattices"},
    "testing": _MATH,
    "report": _MATH,
    "quantizers": _MATH,
    "runtime": set(),
    "data": set(),
    "models": {"quantizers", "runtime", "data"} | _MATH,
    "evaluation": _TORCH,
    "codec": _TORCH,
    "training": _TORCH | {"evaluation"},
    "warmup": _MATH | {"quantizers", "report"},
    "commands": _TORCH | {"evaluation", "training", "codec", "report"},
    "cli": {"commands"},
}
#: shared by everything: the version, progress bars, output-path checks, compile notices,
#: the result cache, lazy package exports
SHARED = {"lattiq", "progress", "_outputs", "_jitnotice", "resultcache", "_lazy"}
#: deprecated re-exports of moved entry points (``python -m lattiq.models.train_tokenizer``)
SHIMS = {"lattiq.models.train_tokenizer", "lattiq.models.train_var"}
#: scripts with their own command line (``python -m``), outside the ``lattiq`` command
SCRIPTS = {"lattiq.warmup"}


def _modules():
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else name.rpartition(".")[0]
        yield f, name, package


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "lattiq"


def _imports(tree: ast.AST, package: str):
    """``(imported module, enclosing function name or None)`` for every import."""
    out = []

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            f = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Import):
                out.extend((a.name, func) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                out.append((mod, func))
            visit(child, f)

    visit(tree, None)
    return out


CASES = list(_modules())


@pytest.mark.parametrize("path,name,package", CASES, ids=[c[1] for c in CASES])
def test_imports_follow_the_layering(path, name, package):
    part = _part(name)
    if part in SHARED:
        return
    allowed = ALLOWED[part] | SHARED | {part}
    bad = []
    for mod, func in _imports(ast.parse(path.read_text()), package):
        if mod.split(".")[0] != "lattiq" or mod == "lattiq":
            if mod.split(".")[0] == "argparse" and part not in ("cli", "commands") and not (
                    func == "main" or name in SCRIPTS):
                bad.append("argparse (parse arguments in lattiq.commands)")
            continue
        dst = _part(mod)
        if dst in allowed:
            continue
        if dst == "commands" and func == "main":
            continue  # a script's entry point parses its arguments with the command line
        if name in SHIMS and dst == "training":
            continue
        bad.append(f"{mod} (a {dst} module) in {func or 'the module body'}")
    assert not bad, f"{name} ({part}) may import only {sorted(ALLOWED[part])}: {bad}"


def test_every_part_is_placed():
    parts = {_part(name) for _, name, _ in CASES}
    assert parts <= set(ALLOWED) | SHARED, parts - set(ALLOWED) - SHARED
