"""Smoke tests of the benchmark scripts: they run end to end on tiny inputs and their
internal checks (every search agrees with the untiled argmax) hold."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_tiled_search_runs_and_checks(capsys):
    pytest.importorskip("torch")
    mod = _load("bench_tiled_search")
    assert mod.main(["--n", "64", "--K", "5000", "--dim", "8", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| torch | untiled argmax (baseline) |" in out
    assert "| numpy | 4 MiB tiles (default) |" in out


def test_compare_codes_trains_evaluates_and_tabulates(tmp_path, capsys):
    pytest.importorskip("torch")
    from lattiq.data import get_dataset

    try:
        get_dataset("fashion-mnist", "test", 28)
    except (FileNotFoundError, OSError) as e:
        pytest.skip(f"Fashion-MNIST not installed: {e}")
    mod = _load("compare_codes")
    args = ["--datasets", "fashion-mnist", "--codes", "leech", "bsq-18+entropy", "--seeds", "0",
            "--steps", "2", "--eval-images", "8", "--out", str(tmp_path)]  # fmt: skip
    assert mod.main(args) == 0
    table = capsys.readouterr().out
    for name in ("| fashion-mnist | leech | 17.58 |", "| fashion-mnist | bsq-18+entropy | 18.00 |"):
        assert name in table
    summary = json.loads((tmp_path / "results.json").read_text())
    assert {r["name"] for r in summary["results"]} == {"leech", "bsq-18+entropy"}
    assert all(r["steps"] == 2 and r["images"] == 8 for r in summary["results"])
    # finished runs are reused, and --report-only tabulates them without training
    mtime = (tmp_path / "fashion-mnist" / "leech" / "seed0" / "report.json").stat().st_mtime
    assert mod.main([*args, "--report-only"]) == 0
    assert (tmp_path / "fashion-mnist" / "leech" / "seed0" / "report.json").stat().st_mtime == mtime
    assert "| fashion-mnist | leech |" in capsys.readouterr().out

    # per-token distortion of the trained runs, with the brute-force exactness column
    assert _load("latent_distortion").main(
        ["--out", str(tmp_path), "--datasets", "fashion-mnist", "--codes", "leech",
         "bsq-18+entropy", "--images", "4"]
    ) == 0  # fmt: skip
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| fashion-mnist")]
    leech = rows[0].split("|")
    assert leech[2].strip() == "leech" and int(leech[3]) == 4 * 49
    assert float(leech[7]) < 1e-5  # the search chose the best codeword
    assert "(implicit codebook)" in rows[1]


def test_gpu_check_reduced_mode_runs_on_cpu(tmp_path):
    """``benchmarks/gpu_check.sh --reduced``: every row of the GPU table runs (on the CPU
    where there is no CUDA), the searches agree, and the CUDA-only rows say why they skip."""
    pytest.importorskip("torch")
    import os
    import subprocess
    import sys

    import torch

    out_json = tmp_path / "rows.json"
    env = {**os.environ, "PYTHON": sys.executable}
    res = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--reduced",
                          "--json", str(out_json)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    rows = json.loads(out_json.read_text())
    checks = [r["check"] for r in rows]
    assert checks[0] == "gpu tests (pytest -m gpu)"
    if not torch.cuda.is_available():
        assert rows[0]["result"] == "skipped: no CUDA"
        assert "| gpu tests (pytest -m gpu) | cuda |" in res.stdout
    q = [r for r in rows if r["check"].startswith("quantizer")]
    assert len(q) == 6 and all(r["seconds"] > 0 for r in q)
    assert all(r["result"].startswith("0 of ") for r in q if "numba" not in r["check"])
    assert sum(r["check"].startswith("tokenizer step") for r in rows) == 1
    var = [r for r in rows if r["check"].startswith("VAR step")]
    assert [r["check"].split()[2] for r in var] == ["chunked", "plain"]
    assert all(r["result"] == "ok" for r in var + [rows[-3]])
    assert "| check | device | size |" in res.stdout


def test_bench_startup_runs_and_tabulates(capsys, tmp_path):
    mod = _load("bench_startup")
    assert mod.main(["--runs", "1", "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    for cmd in ("`lattiq --version`", "`lattiq --help`", "`lattiq codes list`",
                "`lattiq lattice stats e8`"):
        assert f"| {cmd} | current |" in out
    rows = json.loads((tmp_path / "s.json").read_text())
    codes = {r["command"]: r["returncode"] for r in rows}
    assert codes["--version"] == 0 and codes["lattice stats"] == 2  # the argument error


@pytest.mark.slow
def test_bench_report_against_a_baseline(capsys):
    mod = _load("bench_report")
    assert mod.main(["--runs", "1", "--quick", "--baseline", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "report tables identical in every setting: yes" in out
    assert "| current, warm result cache |" in out
def test_bench_user_lattices_runs_and_checks(capsys):
    # with or without fpylll (absent from the project's environment: its columns stay empty)
    mod = _load("bench_user_lattices")
    args = ["--basis-dims", "4", "8", "--cvp-dims", "4", "8", "--repeats", "1", "--targets", "3"]
    assert mod.main(args) == 0
    out = capsys.readouterr().out
    assert "| 8 | 3 |" in out and "from_basis" in out
    if not mod.HAVE_FPYLLL:
        assert "| — | — |" in out and "ABSENT" in out


def test_bench_leech_kernels_runs_and_checks(capsys):
    mod = _load("bench_leech_kernels")
    # the exit status follows the identity checks (speed targets are reported, not required)
    assert mod.main(["--n", "640", "--repeats", "1", "--stages", "--ties"]) == 0
    out = capsys.readouterr().out
    for line in ("PASS  batched decoder: identical answers to the previous kernel",
                 "PASS  shell search: identical answers to the previous kernel",
                 "PASS  shell search: same indices as a float64 brute force",
                 "| shell search, sextet cosets (current) |",
                 "| row bounds (239 rows) |",
                 "PASS  shell search on tie-heavy input: identical answers"):
        assert line in out


def test_bench_glue_decoders_runs_and_agrees(capsys):
    mod = _load("bench_glue_decoders")
    assert mod.main(["--n", "300", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("e7", "e6", "k12", "bw16"):
        assert f"| {name} |" in out
    assert "| NO |" not in out


def test_bench_lattice_calls_runs(capsys):
    mod = _load("bench_lattice_calls")
    assert mod.main(["--quick", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "| e8.decode n=1 |" in out and "| u12.contains n=1 |" in out
