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
