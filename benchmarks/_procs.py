"""Helpers of the command-line benchmarks: a source tree of another revision, the CPU and
wall time of a command run in a subprocess (its own rusage, from ``os.wait4``), and the
machine's description (CPU model, load) for the table headers."""

from __future__ import annotations

import io
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tree_at(ref: str, into: str | os.PathLike | None = None) -> Path:
    """The files of git revision ``ref`` of this repository, extracted into a temporary
    directory (``git archive``; the repository itself is not touched)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                          check=True, capture_output=True).stdout  # fmt: skip
    d = Path(into or tempfile.mkdtemp(prefix=f"lattiq-{ref[:12]}-"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(d, filter="data")
    return d


def describe(ref: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", ref],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip


@dataclass
class Timing:
    cpu: list[float]
    wall: list[float]
    returncode: int

    def row(self) -> tuple[float, float, float, float]:
        return (min(self.cpu), statistics.median(self.cpu), min(self.wall),
                statistics.median(self.wall))  # fmt: skip


def run_once(argv: list[str], tree: Path, env: dict | None = None) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, return code) of ``python -m lattiq.cli *argv`` run with
    ``tree`` first on ``PYTHONPATH`` (user + system CPU of the child, from ``os.wait4``)."""
    e = dict(os.environ)
    e.update(PYTHONPATH=str(tree), OMP_NUM_THREADS="1", LATTIQ_COMPILE_NOTICE="0",
             **(env or {}))  # fmt: skip
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "lattiq.cli", *argv], cwd=tree, env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime, wall, p.returncode


def measure(argv: list[str], tree: Path, runs: int, env: dict | None = None,
            warmup: int = 1) -> Timing:
    """``warmup`` untimed runs (numba compiles or loads its cache), then ``runs`` timed."""
    for _ in range(warmup):
        run_once(argv, tree, env)
    cpu, wall, rc = [], [], 0
    for _ in range(runs):
        c, w, rc = run_once(argv, tree, env)
        cpu.append(c)
        wall.append(w)
    return Timing(cpu, wall, rc)


def load() -> str:
    return open("/proc/loadavg").read().split(" ")[0] if os.path.exists("/proc/loadavg") else "?"


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo``, else what ``platform`` knows, else "unknown"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
