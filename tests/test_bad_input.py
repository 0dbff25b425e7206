"""Bad arguments to the math-side ``lattiq`` commands (``lattice``, ``codes``, ``report``,
``bench``, and ``train-tokenizer --stop-at``): each gives exit code 2 and exactly one
error line naming the problem (``lattiq: error: ...`` from the command, or argparse's
``lattiq <command>: error: ...`` for a malformed option), no traceback, no output file and
no long computation first (the size checks refuse with their estimate). The API-level
cases live in ``tests/lattices`` and ``tests/spherecodes`` (``test_bad_input_*.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from lattiq.cli import main

_ERROR_LINE = re.compile(r"^lattiq(?: [\w-]+)*: error: \S")


def run_cli(argv, capsys):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def assert_one_error(rc, err, *needles):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if _ERROR_LINE.match(ln)]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def blocker(tmp_path):
    """A regular file: a folder path below it cannot be created (even by root)."""
    p = tmp_path / "afile"
    p.write_text("x")
    return p


def _cases(tmp: str, blocker: str):
    png = os.path.join(tmp, "p.png")
    return [
        # lattice
        (["lattice"], ["give an action"]),
        (["lattice", "stats"], ["the following arguments are required"]),
        (["lattice", "stats", "typo"], ["unknown lattice 'typo'"]),
        (["lattice", "stats", "d0"], ["d<n> needs"]),
        (["lattice", "stats", "e8", "--terms", "0"], ["positive integer"]),
        (["lattice", "stats", "e8", "--terms", "-3"], ["positive integer"]),
        (["lattice", "stats", "e8", "--terms", "x"], ["invalid int value"]),
        (["lattice", "stats", "e8", "--terms", "100000000"], ["limit"]),
        (["lattice", "stats", "leech", "--terms", "1000000"], ["array operations"]),
        # codes
        (["codes"], ["give an action"]),
        (["codes", "stats", "typo"], ["unknown code 'typo'"]),
        (["codes", "stats", ""], ["unknown code ''"]),
        (["codes", "stats", "e8-shell99999"], ["e8-shell99999", "limit"]),
        (["codes", "stats", "d4096-shell1"], ["d4096-shell1", "limit"]),
        (["codes", "stats", "fibonacci-0"], ["fibonacci-<N> needs"]),
        (["codes", "stats", "bsq-63"], ["bsq-<d> needs"]),
        (["codes", "export", "e8", "-o", os.path.join(tmp, "c.txt")], [".npy, .safetensors"]),
        (["codes", "export", "e8", "-o", os.path.join(blocker, "c.npy")], ["not a folder"]),
        (["codes", "export", "e8", "-o", tmp], ["is a folder"]),
        (["codes", "export", "typo", "-o", os.path.join(tmp, "c.npy")], ["unknown code"]),
        (["codes", "export", "bsq-40", "-o", os.path.join(tmp, "c.npy")], ["limit"]),
        (["codes", "export", "e8"], ["-o/--output"]),
        (["codes", "plot", "delta-min", "--dim", "0", "-o", png], ["dim must be"]),
        (["codes", "plot", "delta-min", "--dim", "-2", "-o", png], ["dim must be"]),
        (["codes", "plot", "delta-min", "--dim", "1", "-o", png], ["dim must be"]),
        (["codes", "plot", "delta-min", "--dim", "5000", "-o", png], ["dim must be"]),
        (["codes", "plot", "delta-min", "--dim", "x", "-o", png], ["invalid int value"]),
        (["codes", "plot", "delta-min", "-o", png], ["needs --dim"]),
        (["codes", "plot", "delta-min", "e8", "--dim", "3", "-o", png], ["takes no code"]),
        (["codes", "plot", "sphere", "e8", "-o", png], ["needs a code on S^2"]),
        (["codes", "plot", "inner-products", "-o", png], ["needs a code NAME"]),
        (["codes", "plot", "inner-products", "e8", "--dim", "3", "-o", png], ["--dim"]),
        (["codes", "plot", "inner-products", "e8", "-o", os.path.join(tmp, "p.xyz")],
         ["unsupported image format 'xyz'"]),
        (["codes", "plot", "inner-products", "e8", "-o", os.path.join(tmp, "p.jpq")],
         ["unsupported image format 'jpq'"]),
        (["codes", "plot", "inner-products", "e8", "-o", os.path.join(blocker, "p.png")],
         ["not a folder"]),
        (["codes", "plot", "inner-products", "typo", "-o", png], ["unknown code"]),
        (["codes", "plot", "cloud", "e8", "-o", png], ["invalid choice"]),
        # report
        (["report", "--lattice", "typo", "-o", os.path.join(tmp, "r1")],
         ["unknown lattice 'typo'"]),
        (["report", "--code", "typo", "-o", os.path.join(tmp, "r2")], ["unknown code 'typo'"]),
        (["report", "--quick", "-o", blocker], ["not a folder"]),
        (["report", "--quick", "-o", os.path.join(blocker, "sub")], ["not a folder"]),
        # others on the math side
        (["bench", "typo"], ["unknown benchmark"]),
        (["train-tokenizer", "--stop-at", "-1"], ["--stop-at", ">= 1"]),
        (["train-tokenizer", "--stop-at", "0"], ["--stop-at", ">= 1"]),
        (["train-tokenizer", "--stop-at", "x"], ["--stop-at"]),
        (["no-such-command"], ["invalid choice"]),
    ]


def test_every_bad_argument_gives_one_error_line(tmp_path, blocker, capsys):
    for argv, needles in _cases(str(tmp_path), str(blocker)):
        rc, out, err = run_cli(argv, capsys)
        assert_one_error(rc, err, *needles)
    # nothing was written by any refused command
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_figures_are_written_in_the_format_of_their_suffix(tmp_path, capsys):
    for suffix, magic in ((".jpg", b"\xff\xd8\xff"), (".png", b"\x89PNG"), (".svg", b"<?xml"),
                          (".pdf", b"%PDF")):
        path = tmp_path / f"ip{suffix}"
        rc, out, err = run_cli(["codes", "plot", "inner-products", "e8", "-o", path], capsys)
        assert rc == 0, err
        assert path.read_bytes().startswith(magic), suffix


def test_large_but_cheap_requests_are_answered(capsys):
    rc, out, err = run_cli(["lattice", "stats", "e8", "--terms", "100000", "--json"], capsys)
    assert rc == 0, err
    theta = json.loads(out)["theta"]
    assert len(theta) == 100000 and theta[:5] == [1, 0, 240, 0, 2160]
    assert theta[99998] == 240 * sum(d**3 for d in range(1, 50000) if 49999 % d == 0)


def test_plot_delta_min_small_dimension_draws_something(tmp_path, capsys):
    path = tmp_path / "d.png"
    rc, out, err = run_cli(["codes", "plot", "delta-min", "--dim", "2", "--quick", "-o", path],
                           capsys)
    assert rc == 0, err
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("argv,needle", [
    (["codes", "plot", "delta-min", "--dim", "0", "-o", "{tmp}/p.png"], "dim must be"),
    (["report", "--lattice", "typo", "-o", "{tmp}/rep"], "unknown lattice 'typo'"),
    (["lattice", "stats", "e8", "--terms", "100000000"], "limit"),
])
def test_real_process_exit_code_and_stderr(tmp_path, argv, needle):
    argv = [a.format(tmp=tmp_path) for a in argv]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
         os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "lattiq.cli", *argv], capture_output=True,
                       text=True, timeout=600, env=env)  # a guard against hangs, not a timing
    assert_one_error(r.returncode, r.stderr, needle)
    assert r.stdout == ""
    assert not (tmp_path / "rep").exists() and not (tmp_path / "p.png").exists()
