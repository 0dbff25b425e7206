"""``lattiq report``: tables of lattices and codes with bounds and gaps, JSON, figures."""

import json

import pytest

from lattiq.cli import main
from lattiq.report import run_report


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTIQ_CACHE_DIR", str(tmp_path / "result-cache"))


def _by_name(rows):
    return {r["name"]: r for r in rows}


def test_selected_entries_values_and_files(tmp_path, capsys):
    rep = run_report(
        tmp_path,
        quick=True,
        progress=False,
        lattices=["e8", "d4"],
        codes=["e8", "leech-891", "fibonacci-200", "random-8-300-s0"],
        figures=False,
    )
    assert rep["errors"] == [] and rep["figures"] == {}
    lat = _by_name(rep["lattices"])
    assert lat["e8"]["kissing_number"] == 240 and lat["d4"]["kissing_number"] == 24
    assert lat["e8"]["kissing_levenshtein"] == pytest.approx(240)
    assert lat["e8"]["kissing_gap"] == pytest.approx(1.0, rel=1e-4)
    assert lat["d4"]["kissing_lp"] == pytest.approx(25.5584, abs=2e-3)
    assert lat["e8"]["theta"][:5] == [1, 0, 240, 0, 2160]
    # Monte Carlo NSM within 5 standard errors of the exact 929/12960
    e8 = lat["e8"]
    assert abs(e8["nsm"] - 929 / 12960) < 5 * e8["nsm_stderr"] + 1e-4

    codes = _by_name(rep["codes"])
    c = codes["e8"]
    assert (c["dim"], c["size"], c["design_strength"]) == (8, 240, 7)
    assert c["min_distance"] == pytest.approx(1.0) and c["min_angle_deg"] == pytest.approx(60)
    assert c["size_gap"] == pytest.approx(1.0, rel=1e-6)
    assert c["delta_gap"] == pytest.approx(1.0, rel=1e-9)
    assert c["inner_products"] == {"1": 1, "1/2": 56, "0": 126, "-1/2": 56, "-1": 1}
    k = codes["leech-891"]
    assert (k["size"], k["design_strength"]) == (891, 5)
    assert k["max_inner_product"] == pytest.approx(0.25)
    assert k["levenshtein_bound"] == pytest.approx(891) and k["size_gap"] == pytest.approx(1)
    assert 891 <= k["lp_bound"] <= 891 * (1 + 1e-4)
    f = codes["fibonacci-200"]
    assert f["design_strength"] == 0 and 0 < f["delta_gap"] < 1 and 0 < f["size_gap"] < 1
    r = codes["random-8-300-s0"]
    assert r["levenshtein_bound"] >= r["size"] and r["rankin_bound"] >= r["size"]
    assert r["bits"] == pytest.approx(8.2288, abs=1e-4)

    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(rep))
    md = (tmp_path / "report.md").read_text()
    assert "## Lattices" in md and "## Spherical codes" in md and "leech-891" in md
    assert "| e8 | 8 | 240 |" in md
    assert capsys.readouterr().err == ""  # progress=False prints nothing


def test_failing_entry_is_reported_not_fatal(tmp_path, monkeypatch):
    import lattiq.report as report

    real = report._code_row

    def flaky(name, seed):
        if name == "e8":
            raise RuntimeError("measurement failed")
        return real(name, seed)

    monkeypatch.setattr(report, "_code_row", flaky)
    rep = run_report(tmp_path, progress=False, lattices=[], codes=["d4", "e8"], figures=False)
    assert [r["name"] for r in rep["codes"]] == ["d4"]
    assert rep["errors"][0]["item"] == "code e8"
    assert "measurement failed" in rep["errors"][0]["error"]
    assert "measurement failed" in (tmp_path / "report.md").read_text()


def test_unknown_names_are_refused_before_any_work(tmp_path):
    out = tmp_path / "rep"
    with pytest.raises(ValueError, match="unknown code 'no-such-code'"):
        run_report(out, progress=False, lattices=[], codes=["d4", "no-such-code"])
    with pytest.raises(ValueError, match="unknown lattice 'typo'"):
        run_report(out, progress=False, lattices=["typo"])
    assert not out.exists()  # nothing was written, not even the folder


def test_cli_quick_report_with_figures(tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["report", "-o", str(out), "--quick"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "lattiq report:" in cap.out and "leech" in cap.out
    assert "lattice leech" in cap.err  # progress on stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["errors"] == [] and rep["quick"] is True
    leech = _by_name(rep["codes"])["leech"]
    assert leech["size"] == 196560 and leech["min_distance"] == pytest.approx(1.0)
    assert leech["design_strength"] == 11
    assert leech["levenshtein_bound"] == pytest.approx(196560, rel=1e-9)
    assert leech["size_gap"] == pytest.approx(1.0, rel=1e-6)
    assert leech["inner_products"] == {
        "1": 1, "1/2": 4600, "1/4": 47104, "0": 93150, "-1/4": 47104, "-1/2": 4600, "-1": 1
    }  # fmt: skip
    lat = _by_name(rep["lattices"])["leech"]
    assert lat["kissing_number"] == 196560 and lat["kissing_gap"] == pytest.approx(1, rel=1e-4)
    assert lat["nsm"] == pytest.approx(0.06577, abs=5 * lat["nsm_stderr"] + 2e-4)
    for key in ("delta_min_S2", "delta_min_S23", "inner_products_leech"):
        png = out / rep["figures"][key]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert "![delta_min_S23](figures/delta_min_S23.png)" in md


def test_cli_json_and_selection(tmp_path, capsys):
    rc = main(["report", "-o", str(tmp_path), "--json", "--code", "d4", "--no-figures"])
    cap = capsys.readouterr()
    assert rc == 0 and cap.err == ""
    rep = json.loads(cap.out)
    assert rep["lattices"] == [] and [c["name"] for c in rep["codes"]] == ["d4"]
    rc = main(["report", "-o", str(tmp_path), "--quiet", "--code", "bogus", "--no-figures"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert cap.err.count("lattiq: error:") == 1 and "unknown code 'bogus'" in cap.err
