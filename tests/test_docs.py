"""Documentation runs: every ```python block and every command line of the ```bash blocks of
README.md and docs/*.md is executed.

Python blocks run as they are. Command lines run file by file, block by block, in order, in
one temporary working directory per file (so that a later line can use what an earlier one
made, as a reader would), through small shims on ``PATH``:

* ``lattiq`` runs this checkout's ``python -m lattiq.cli``, and ``python`` this interpreter;
* *tiny mode*: the shims append the options of :data:`TINY` to a command (a few optimizer
  steps, a few images, ``--quick``), so that a training example trains for two steps instead
  of two thousand. Appended options win over the written ones (the last ``--set`` of a key
  and the last value of an option count), so the line as written is what is parsed.

A line passes when it exits with status 0 and every ``--out``/``-o``/``--output`` path it
names exists afterwards. Lines that cannot run here (the set-up itself, files of
pretrained weights, another virtual environment) are listed in :data:`NEVER` with the reason;
long ones (DDP, the benchmark suites, the full experiments) in :data:`SLOW` run only with
``-m slow``; a line in :data:`KNOWN` is expected to fail until the named change lands.
Unlabelled fences (diagrams, error messages, synopses) are not run.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
SHELL = re.compile(r"^```(bash|sh|shell|console)\n(.*?)^```", re.S | re.M)

# ------------------------------------------------------------------------------- python


def _blocks():
    for f in FILES:
        for i, m in enumerate(BLOCK.finditer(f.read_text())):
            yield pytest.param(m.group(1), id=f"{f.name}-{i}")


@pytest.mark.parametrize("src", list(_blocks()))
def test_python_blocks_run(src):
    if "# doctest: skip" in src:
        pytest.skip("block marked as not runnable here")
    exec(compile(src, "<doc>", "exec"), {})


# ---------------------------------------------------------------------------- commands

_STEPS = ["--set", "steps=2", "--set", "batch_size=4", "--set", "log_every=1",
          "--set", "ckpt_every=2"]  # fmt: skip
#: Options appended to a command in tiny mode: {(program, subcommand or script): options}.
TINY: dict[str, list[str]] = {
    "lattiq train-tokenizer": [*_STEPS, "--set", "image_every=2", "--set", "model.width=32",
                               "--set", "model.depth=1", "--set", "model.heads=2"],
    "lattiq train-var": [*_STEPS, "--set", "sample_every=2", "--set", "data.limit=64",
                         "--set", "data.encode_batch=32"],
    "lattiq eval-tokenizer": ["--limit", "32"],
    "lattiq sample": ["--per-class", "1"],
    "lattiq fmnist-classifier": ["--epochs", "1", "--limit", "512"],
    # (a classifier trained on 512 images is weak: eval-var refuses it unless told)
    "lattiq eval-var": ["--per-class", "2", "--real-limit", "64", "--allow-weak-classifier"],
    "lattiq report": ["--quick"],
    "lattiq codes plot delta-min": ["--quick"],
    "lattiq bench leech_nearest": ["--n", "512", "--brute-n", "128", "--repeats", "1"],
    "benchmarks/bench_leech_nearest.py": ["--n", "512", "--brute-n", "128", "--repeats", "1"],
    "benchmarks/bench_decoders.py": ["--quick", "--repeat", "1"],
    "benchmarks/bench_glue_decoders.py": ["--n", "2000", "--repeat", "1"],
    "benchmarks/rate_distortion.py": ["--fit-unigram", "64", "--fmnist-limit", "16"],
    "benchmarks/var_prior_bits.py": ["--images", "4"],
    "benchmarks/compare_codes.py": ["--steps", "2", "--eval-images", "8", "--seeds", "0"],
    "benchmarks/bench_startup.py": ["--runs", "1"],
    "benchmarks/bench_report.py": ["--runs", "1", "--quick"],
}
#: Lines never run here: (pattern, reason).
NEVER = [
    (r"^bash scripts/(setup|test)\.sh", "the set-up and CI commands themselves"),
    (r"\.\./\S+-venv/", "a separate benchmark environment"),
    (r"--lpips-vgg|--inception|--config my\.yaml", "files of pretrained weights / a user's "
     "config file"),
]
#: Lines run only with the slow tests.
SLOW = [r"^torchrun ", r"bash experiments/", r"benchmarks/compare_codes\.py",
        r"benchmarks/bench_(chunked_ce|quantizers|decoders|startup|report)\.py"]  # fmt: skip
#: Lines expected to fail for now: {line prefix: reason}.
KNOWN: dict[str, str] = {}
#: Files whose command lines all run only with the slow tests (long experiments; training
#: examples that repeat the README's, kept out of CI's time budget).
SLOW_FILES = {"results.md", "generator.md", "tokenizer.md"}


def _lines(text: str) -> list[list[str]]:
    """The command lines of each shell block: continuations joined, comments dropped."""
    blocks = []
    for m in SHELL.finditer(text):
        joined = re.sub(r"\\\n\s*", " ", m.group(2))
        lines = []
        for raw in joined.splitlines():
            words = shlex.split(raw, comments=True)
            if words:
                lines.append(shlex.join(words) if "$" not in raw else raw.split(" #")[0].strip())
        blocks.append(lines)
    return blocks


def _shim(bin_dir: pathlib.Path) -> None:
    """``lattiq`` and ``python`` on PATH: this interpreter, this checkout, tiny options."""
    code = textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys
        TINY = {json.dumps(TINY)}
        prog = os.path.basename(sys.argv[0])
        args = sys.argv[1:]
        if prog == "lattiq":
            cmd = [sys.executable, "-m", "lattiq.cli"]
            keys = ["lattiq " + " ".join(args[:n]) for n in (3, 2, 1)]
        elif prog == "torchrun":
            cmd = [sys.executable, "-m", "torch.distributed.run"]
            mod = args[args.index("-m") + 1] if "-m" in args else ""
            keys = ["lattiq " + mod.rpartition(".")[2].replace("_", "-")]
        else:
            cmd = [sys.executable]
            keys = [a for a in args[:1] if a.endswith(".py")]
        extra = next((TINY[k] for k in keys if k in TINY), [])
        if "--help" in args or "-h" in args:
            extra = []
        os.execv(sys.executable, cmd + args + extra)
        """)
    bin_dir.mkdir()
    for name in ("lattiq", "python", "torchrun"):
        (bin_dir / name).write_text(code)
        (bin_dir / name).chmod(0o755)


def _outputs(line: str) -> list[str]:
    words = shlex.split(line)
    if words[:1] not in (["lattiq"], ["python"]):
        return []
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--out", "-o", "--output")]


def _fmnist_installed() -> bool:
    return pathlib.Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").exists()


def _doc_files():
    """Each page with command lines: without its slow lines (CI), and whole (``slow``)."""
    for f in FILES:
        lines = [ln for block in _lines(f.read_text()) for ln in block]
        if not lines:
            continue
        if f.name not in SLOW_FILES:
            yield pytest.param(f, False, id=f.name)
        if f.name in SLOW_FILES or any(re.search(p, ln) for p in SLOW for ln in lines):
            yield pytest.param(f, True, id=f"{f.name}-all", marks=[pytest.mark.slow])


@pytest.mark.parametrize("doc,slow", list(_doc_files()))
def test_command_lines_run(doc, slow, tmp_path):
    if "fashion-mnist" in doc.read_text() and not _fmnist_installed():
        pytest.skip("Fashion-MNIST is not installed (scripts/setup.sh installs it)")
    _shim(tmp_path / "bin")
    for d in ("benchmarks", "experiments", "scripts"):
        if (ROOT / d).exists():
            (tmp_path / d).symlink_to(ROOT / d)
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", LATTIQ_PROGRESS="lines",
               LATTIQ_CACHE_DIR=str(tmp_path / "cache"), LATTIQ_COMPILE_NOTICE="0")  # fmt: skip
    ran, skipped, failures, known = 0, [], [], []
    for block in _lines(doc.read_text()):
        prelude = []  # variable assignments stay for the rest of the block
        for line in block:
            if re.match(r"^(export )?[A-Z_][A-Z0-9_]*=\S*( [A-Z_][A-Z0-9_]*=\S*)*$", line):
                prelude.append(line)
                continue
            why = next((r for p, r in NEVER if re.search(p, line)), None)
            if why is None and not slow and any(re.search(p, line) for p in SLOW):
                why = "slow (runs with -m slow)"
            if why:
                skipped.append(f"{line[:60]}: {why}")
                continue
            script = "set -eo pipefail\n" + "\n".join([*prelude, line])
            r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=1800)  # fmt: skip
            ran += 1
            missing = [o for o in _outputs(line) if not (tmp_path / o).exists()]
            bad = r.returncode != 0 or missing
            reason = next((v for k, v in KNOWN.items() if line.startswith(k)), None)
            if bad and reason:
                known.append(f"{line}: {reason}")
            elif bad:
                failures.append(f"$ {line}\nexit {r.returncode}, missing outputs {missing}\n"
                                f"{(r.stdout + r.stderr)[-3000:]}")  # fmt: skip
    assert not failures, "\n\n".join(failures)
    if known:
        pytest.xfail("; ".join(known))
    if not ran:
        pytest.skip("; ".join(skipped))
