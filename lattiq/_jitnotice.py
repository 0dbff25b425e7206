"""A one-time notice on stderr while numba compiles lattiq's kernels for the first time.

lattiq's kernels are ``@numba.njit(cache=True)``: the first call of each one (per argument
types) compiles it, which takes from a fraction of a second to about a minute per kernel, and
later processes load the machine code from numba's cache instead. Without a word the first
run of a command looks hung, so :func:`watch_compiles` listens to numba's ``numba:compile``
event — which numba raises only on a cache miss, never when it loads a cached kernel — and

* prints one line when the first lattiq kernel starts compiling, saying what is happening
  and roughly how long it takes;
* prints one line at exit with the number of kernels compiled and the time spent.

Kernels that do not cache (``cache=False``) and other packages' kernels are not counted.
The notice is off when ``LATTIQ_COMPILE_NOTICE=0`` is set or after :func:`set_enabled`
``(False)`` (the CLI's ``--quiet`` / ``--json`` / ``--no-progress`` modes). ``scripts/setup.sh``
compiles the kernels of the main job and the README examples ahead of time
(:mod:`lattiq.warmup`).
"""

from __future__ import annotations

import atexit
import os
import sys
import time

__all__ = ["compile_stats", "set_enabled", "watch_compiles"]

_state = {
    "installed": False,
    "enabled": os.environ.get("LATTIQ_COMPILE_NOTICE", "1") not in ("0", "off", "no", ""),
    "announced": False,
    "depth": 0,
    "t0": 0.0,
    "count": 0,
    "seconds": 0.0,
}

MESSAGE = (
    "lattiq: compiling numba kernels on first use; this takes from a few seconds up to about "
    "two minutes (once: later runs load them from numba's cache) ..."
)


def set_enabled(enabled: bool) -> None:
    """Turn the notice on or off for this process (counting goes on either way)."""
    _state["enabled"] = bool(enabled)


def compile_stats() -> dict:
    """``{"kernels": n, "seconds": s}``: lattiq kernels compiled in this process so far."""
    return {"kernels": int(_state["count"]), "seconds": float(_state["seconds"])}


def _is_ours(event) -> bool:
    disp = (event.data or {}).get("dispatcher")
    mod = getattr(getattr(disp, "py_func", None), "__module__", "") or ""
    cache = getattr(disp, "_cache", None)
    return mod.startswith("lattiq.") and type(cache).__name__ != "NullCache"


def _report_at_exit() -> None:
    if _state["enabled"] and _state["count"]:
        print(
            f"lattiq: compiled {_state['count']} numba kernel(s) in {_state['seconds']:.1f} s; "
            "they are cached for later runs",
            file=sys.stderr,
            flush=True,
        )


def watch_compiles() -> None:
    """Install the listener (once per process; imports numba)."""
    if _state["installed"]:
        return
    _state["installed"] = True
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover - numba is a dependency
        return

    class _Listener(event.Listener):
        def on_start(self, ev):
            if not _is_ours(ev):
                return
            if _state["depth"] == 0:
                _state["t0"] = time.perf_counter()
                if not _state["announced"]:
                    _state["announced"] = True
                    if _state["enabled"]:
                        print(MESSAGE, file=sys.stderr, flush=True)
                        atexit.register(_report_at_exit)
            _state["depth"] += 1

        def on_end(self, ev):
            if not _is_ours(ev):
                return
            _state["depth"] -= 1
            _state["count"] += 1
            if _state["depth"] == 0:
                _state["seconds"] += time.perf_counter() - _state["t0"]

    event.register("numba:compile", _Listener())
