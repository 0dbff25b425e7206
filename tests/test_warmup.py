"""The first-compile notice and the warm-up that setup runs."""

import os
import subprocess
import sys

PROBE = (
    "import numpy as np\n"
    "from lattiq.lattices import get_lattice\n"
    "get_lattice('e8').nearest(np.zeros((3, 8)))\n"
)


def _run(cache_dir, **env):
    e = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), **env)
    e.pop("LATTIQ_COMPILE_NOTICE", None)
    e.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=e, check=True).stderr  # fmt: skip


def test_notice_once_while_compiling_and_silence_once_cached(tmp_path):
    first = _run(tmp_path)
    lines = [ln for ln in first.splitlines() if ln.startswith("lattiq: ")]
    assert len(lines) == 2, first
    assert "compiling numba kernels on first use" in lines[0] and "minutes" in lines[0]
    assert lines[1].startswith("lattiq: compiled ") and "cached for later runs" in lines[1]
    assert "lattiq:" not in _run(tmp_path)  # cached now: nothing to say
    assert "lattiq:" not in _run(tmp_path / "other", LATTIQ_COMPILE_NOTICE="0")


def test_warm_up_examples_step():
    from lattiq.warmup import warm_up

    log = []
    times = warm_up(report=False, torch=False, log=log.append)
    assert list(times) == ["README examples"]
    assert log[0] == "warm-up: README examples ..." and log[-1].startswith("warm-up: ")
