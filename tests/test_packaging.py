"""Packaging contracts: the math subpackages never import torch; the CLI entry point works."""

import json
import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)


def test_math_subpackages_import_without_torch():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now raises ImportError\n"
        "import lattiq.lattices, lattiq.spherecodes, lattiq.testing\n"
        "from lattiq.lattices import get_lattice\n"
        "assert get_lattice('e8').kissing_number() == 240\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print('ok')\n"
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_cli_lattice_stats_json():
    r = subprocess.run([sys.executable, "-m", "lattiq.cli", "lattice", "stats", "d4", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    for key in ("name", "dim", "det", "min_norm", "kissing_number", "center_density",
                "density", "theta"):
        assert key in st
    assert (st["dim"], st["det"], st["min_norm"], st["kissing_number"]) == (4, 4, 2, 24)
    assert st["theta"][:9] == [1, 0, 24, 0, 24, 0, 96, 0, 24]
    assert abs(st["center_density"] - 1 / 8) < 1e-15


def test_cli_unknown_lattice_is_a_clear_error():
    r = subprocess.run([sys.executable, "-m", "lattiq.cli", "lattice", "stats", "e9"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "unknown lattice 'e9'" in r.stderr and "leech" in r.stderr


def test_wheel_and_sdist_ship_every_package_and_py_typed(tmp_path):
    """The built distributions hold py.typed (PEP 561, declared in pyproject.toml) and every
    package of the source tree, and nothing compiled."""
    import shutil
    import tarfile
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    shutil.copytree(root / "lattiq", src / "lattiq",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    dist.mkdir()
    code = ("import sys; from setuptools import build_meta as b; out = sys.argv[1]; "
            "b.build_sdist(out); b.build_wheel(out)")  # (build_meta rewrites sys.argv)
    r = subprocess.run([sys.executable, "-c", code, str(dist)], cwd=src,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel_path,), (sdist_path,) = dist.glob("*.whl"), dist.glob("*.tar.gz")
    wheel = zipfile.ZipFile(wheel_path).namelist()
    sdist = [n.split("/", 1)[1] for n in tarfile.open(sdist_path).getnames() if "/" in n]
    packages = sorted(str(p.parent.relative_to(root)) for p in (root / "lattiq").rglob("*.py")
                      if "__pycache__" not in p.parts)
    assert (root / "lattiq" / "py.typed").is_file()
    for names in (wheel, sdist):
        assert "lattiq/py.typed" in names
        for pkg in set(packages):  # a folder of modules without __init__.py would be lost
            assert f"{pkg}/__init__.py" in names, pkg
        assert not [n for n in names if n.endswith(".pyc") or n.startswith("tests/")]
