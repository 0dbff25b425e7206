"""``lattiq codes list | stats | export | plot``."""

from __future__ import annotations

import json

import pytest

from lattiq.cli import main
from lattiq.spherecodes import SphericalCode, get_code
from lattiq.spherecodes.cli import code_stats


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_list(capsys):
    rc, out, _ = run(capsys, "codes", "list")
    assert rc == 0 and "leech, leech-4600, leech-891, e8, d4" in out and "bsq-<d>" in out
    rc, out, _ = run(capsys, "codes", "list", "--json")
    assert json.loads(out)["codes"][0] == "leech"


def test_stats_json_and_text(capsys):
    rc, out, _ = run(capsys, "codes", "stats", "leech", "--json")
    st = json.loads(out)
    assert rc == 0 and st["size"] == 196560 and st["max_inner_product_exact"] == "1/2"
    assert st["min_distance"] == 1.0 and st["design_strength"] == 11
    assert st["inner_products"] == {"1": 1, "1/2": 4600, "1/4": 47104, "0": 93150,
                                    "-1/4": 47104, "-1/2": 4600, "-1": 1}
    rc, out, _ = run(capsys, "codes", "stats", "leech-4600")
    assert "max inner product" in out and "1/3" in out and "70.5288" in out
    st = code_stats("random-24-1000")
    assert st["name"] == "random-24-1000-s0" and st["design_strength"] == 0


def test_stats_of_an_unknown_code_is_a_clean_error(capsys):
    rc, out, err = run(capsys, "codes", "stats", "nope")
    assert rc == 2 and "unknown code 'nope'" in err and "known codes" in err


def test_export_and_plot(capsys, tmp_path):
    f = tmp_path / "e8.safetensors"
    rc, out, _ = run(capsys, "codes", "export", "e8", "-o", str(f))
    assert rc == 0 and SphericalCode.load(f) is get_code("e8")
    rc, out, _ = run(capsys, "codes", "export", "d4", "-o", str(tmp_path / "d4.npy"))
    assert rc == 0 and (tmp_path / "d4.npy.json").exists()
    png = tmp_path / "s.png"
    rc, out, _ = run(capsys, "codes", "plot", "sphere", "fibonacci-200", "-o", str(png))
    assert rc == 0 and png.stat().st_size > 1000
    rc, out, _ = run(capsys, "codes", "plot", "inner-products", "e8", "-o", str(png))
    assert rc == 0
    rc, _, err = run(capsys, "codes", "plot", "sphere", "e8", "-o", str(png))
    assert rc == 2 and "S^2" in err
    rc, _, err = run(capsys, "codes", "plot", "delta-min", "-o", str(png))
    assert rc == 2 and "--dim" in err


@pytest.mark.slow
def test_plot_delta_min(capsys, tmp_path):
    png = tmp_path / "d.png"
    rc, _, _ = run(capsys, "codes", "plot", "delta-min", "--dim", "3", "--quick", "-o", str(png))
    assert rc == 0 and png.exists()
