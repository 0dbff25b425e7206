"""The ``lattiq`` command's wiring: light start-up, help texts, ``bench`` pass-through."""

import subprocess
import sys

import pytest

from lattiq import cli
from lattiq.commands import bench

HEAVY = ("numpy", "numba", "sympy", "scipy", "torch", "matplotlib", "PIL", "tqdm")


def _modules_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return set(out.split())


def test_building_the_parser_imports_no_heavy_module():
    assert _modules_after("import lattiq.cli\nlattiq.cli.build_parser()") == set()


def test_parsing_and_help_of_light_commands_import_no_heavy_module():
    code = (
        "import contextlib, io, lattiq.cli\n"
        "p = lattiq.cli.build_parser()\n"
        "p.parse_args(['codes', 'list'])\n"
        "p.parse_args(['train-tokenizer', '--set', 'steps=3'])\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['codes', '--help'], ['report', '--help']):\n"
        "        try:\n"
        "            p.parse_args(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
    )
    assert _modules_after(code) == set()


def test_importing_the_packages_is_lazy():
    assert _modules_after("import lattiq.lattices, lattiq.spherecodes, lattiq.models") == set()
    # a name, once used, loads its module
    assert "numpy" in _modules_after("from lattiq.lattices import golay_code")


def test_lazy_package_names_and_submodules():
    import lattiq.lattices as L
    import lattiq.spherecodes as S

    for pkg in (L, S):
        assert pkg.__all__ == sorted(pkg._EXPORTS) and set(pkg.__all__) <= set(dir(pkg))
        for name in pkg.__all__:  # every lazy name resolves
            assert getattr(pkg, name) is not None
    assert S.get_code("d4").size == 24 and L.get_lattice("e8").dim == 8
    assert S.bounds.levenshtein_bound(8, 0.5) == pytest.approx(240)
    with pytest.raises(AttributeError):
        S.no_such_name  # noqa: B018


def test_version(capsys):
    import lattiq

    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"lattiq {lattiq.__version__}"


def test_bench_passes_options_through(monkeypatch):
    calls = []
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    assert cli.main(["bench", "leech_nearest", "--n", "4096"]) == 0
    assert calls[-1][1].endswith("bench_leech_nearest.py") and calls[-1][2:] == ["--n", "4096"]
    assert cli.main(["bench", "leech_nearest", "--help"]) == 0
    assert calls[-1][2:] == ["--help"]


def test_bench_name_help_is_the_benchmarks_own():
    r = subprocess.run([sys.executable, "-m", "lattiq.cli", "bench", "tiled_search", "--help"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "bench_tiled_search.py" in r.stdout and "lattiq bench" not in r.stdout


def test_bench_unknown_name_is_one_error_line(capsys):
    assert cli.main(["bench", "no_such_bench", "--n", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lattiq: error: unknown benchmark")


@pytest.mark.parametrize("command,module,cls", [
    ("train-tokenizer", "lattiq.training.train_tokenizer", "TrainConfig"),
    ("train-var", "lattiq.training.train_var", "TrainVARConfig"),
])  # fmt: skip
def test_train_help_lists_every_config_key(command, module, cls, capsys):
    pytest.importorskip("torch")
    import importlib

    from lattiq.commands.common import config_keys

    keys = [k for k, _, _ in config_keys(getattr(importlib.import_module(module), cls))]
    assert "model.width" in keys or "model.depth" in keys
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert "--print-config" in out and "config keys" in out
    for k in keys:
        assert f"  {k} " in out, k


def test_classifier_options_have_help_and_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["fmnist-classifier", "--help"])
    out = capsys.readouterr().out
    for opt, default in (("--epochs", "4"), ("--batch-size", "128"), ("--lr", "0.002"),
                         ("--image-size", "32"), ("--seed", "0"), ("--fit", "pad")):
        line = out[out.index(f"\n  {opt}") + 1 :].split("\n  -")[0]
        assert f"default {default}" in " ".join(line.split()), (opt, line)
