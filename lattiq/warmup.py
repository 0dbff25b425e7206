"""Compile lattiq's numba kernels ahead of time: ``python -m lattiq.warmup``.

The first call of each ``@numba.njit(cache=True)`` kernel compiles it (seconds to a minute
each); later processes load it from numba's cache. ``scripts/setup.sh`` runs this module
once, so that the main job (``lattiq report``) and the README examples start fast on a
fresh machine. It runs

* the full ``lattiq report`` into a temporary folder (every kernel the report uses; the
  exact results it computes go to the result cache, :mod:`lattiq.resultcache`, so the
  first real run reuses them);
* the README's lattice and spherical-code examples (Leech nearest codeword on float64 and
  float32 input, theta series, shells, E8 membership);
* with torch installed, a forward and backward pass of the Leech quantizer (float32).

Kernels are compiled for argument types, not sizes, so small inputs suffice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

__all__ = ["main", "warm_up"]


def _examples() -> None:
    import numpy as np

    from lattiq.lattices import get_lattice, golay_code
    from lattiq.spherecodes import get_code

    golay_code().weight_distribution()
    L = get_lattice("leech")
    L.theta_series(7)
    L.shell(1)
    rng = np.random.default_rng(0)
    L.nearest(rng.standard_normal((64, 24)))
    E8 = get_lattice("e8")
    E8.contains(np.full(8, 0.5))
    E8.nearest(rng.standard_normal((64, 8)))
    C = get_code("leech")
    for dtype in (np.float64, np.float32):
        C.nearest(rng.standard_normal((256, 24)).astype(dtype))
    C.min_distance()


def _torch_example() -> bool:
    try:
        import torch
    except ImportError:
        return False
    from lattiq.quantizers import SphericalQuantizer

    q = SphericalQuantizer("leech")
    z = torch.randn(2, 8, 24, requires_grad=True)
    out = q(z)
    q.codes_to_indices(q.indices_to_codes(out.indices))
    out.codes.sum().backward()
    return True


def warm_up(report: bool = True, examples: bool = True, torch: bool = True,
            log=print) -> dict:
    """Run the steps above; returns ``{step: seconds}``. ``log`` gets one line per step."""
    from lattiq import _jitnotice

    was = _jitnotice._state["enabled"]
    _jitnotice.set_enabled(False)  # this module says what it does itself
    _jitnotice.watch_compiles()
    try:
        return _steps(report, examples, torch, log)
    finally:
        _jitnotice.set_enabled(was)


def _steps(report: bool, examples: bool, torch: bool, log) -> dict:
    from lattiq import _jitnotice

    times: dict[str, float] = {}

    def step(name, fn):
        t = time.perf_counter()
        log(f"warm-up: {name} ...")
        fn()
        times[name] = time.perf_counter() - t
        log(f"warm-up: {name}: {times[name]:.1f} s")

    if report:
        from lattiq.report import run_report

        def rep():
            with tempfile.TemporaryDirectory() as d:
                run_report(d, progress=False)

        step("lattiq report", rep)
    if examples:
        step("README examples", _examples)
    if torch:
        step("Leech quantizer (torch)", _torch_example)
    st = _jitnotice.compile_stats()
    log(f"warm-up: compiled {st['kernels']} numba kernel(s) in {st['seconds']:.1f} s"
        if st["kernels"] else "warm-up: every kernel was in numba's cache already")
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lattiq.warmup", description=__doc__.split(
        "\n\n")[0])  # fmt: skip
    p.add_argument("--no-report", action="store_true", help="skip the report")
    p.add_argument("--no-torch", action="store_true", help="skip the torch quantizer")
    args = p.parse_args(argv)
    warm_up(report=not args.no_report, torch=not args.no_torch,
            log=lambda m: print(m, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
