"""Progress for long steps: a tqdm bar on a terminal, a plain line now and then otherwise.

Every step of lattiq that can take more than a few seconds (encoding a dataset, sampling,
evaluating, the report's entries) reports through :func:`progress`:

* on a terminal (``stderr.isatty()``): a tqdm bar with the count, the rate and the ETA;
* when stderr is not a terminal (a log file, CI, a pipe): one plain line every ``every``
  seconds, ``"encode: 12,800/60,000 images (21%), 41 s, ETA 2 min 31 s"``, and a last line
  when it ends — no carriage returns in log files;
* nothing when ``enabled`` is false (the commands' ``--no-progress``).

``LATTIQ_PROGRESS=bar|lines|off`` overrides the choice, and ``LATTIQ_PROGRESS_EVERY=S``
sets the seconds between plain lines (default 15; tests use ``lines`` and 0).
This module imports only the standard library (and tqdm when a bar is drawn).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["Bar", "format_seconds", "progress", "track"]


def format_seconds(s: float) -> str:
    """``75.3 -> "1 min 15 s"``, ``4.2 -> "4.2 s"``, ``4000 -> "1 h 6 min"``."""
    if not math.isfinite(s) or s < 0:
        return "?"
    if s < 10:
        return f"{s:.1f} s"
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def _mode(enabled: bool, stream) -> str:
    if not enabled:
        return "off"
    forced = os.environ.get("LATTIQ_PROGRESS", "").strip().lower()
    if forced in ("bar", "lines", "off"):
        return forced
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "bar" if tty else "lines"


class Bar:
    """What :func:`progress` returns: ``update``, ``set_postfix``, ``set_description``,
    ``write``, ``close``; a context manager. The same calls work in every mode."""

    def __init__(self, total: int | None, desc: str, unit: str, initial: int, mode: str,
                 stream, every: float, leave: bool = True):
        self.total = None if total is None else int(total)
        self.desc = desc
        self.unit = unit
        self.n = int(initial)
        self.mode = mode
        self.stream = stream
        self.every = float(every)
        self.postfix: dict[str, str] = {}
        self._initial = int(initial)
        self._t0 = time.perf_counter()
        self._last = self._t0
        self._printed = False
        self._closed = False
        self._tqdm = None
        if mode == "bar":
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm missing: fall back to plain lines
                self.mode = "lines"
            else:
                self._tqdm = tqdm(total=self.total, initial=self.n, desc=desc, unit=f" {unit}",
                                  dynamic_ncols=True, file=stream, leave=leave)

    # -- the tqdm-like interface ------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        self.n += int(n)
        if self._tqdm is not None:
            self._tqdm.update(n)
        elif self.mode == "lines":
            now = time.perf_counter()
            if now - self._last >= self.every:
                self._last = now
                self._line()

    def set_postfix(self, values: Mapping[str, Any] | None = None, refresh: bool = True,
                    **kw: Any) -> None:
        post = {**(values or {}), **kw}
        self.postfix = {k: (f"{v:.4g}" if isinstance(v, float) else str(v))
                        for k, v in post.items()}
        if self._tqdm is not None:
            self._tqdm.set_postfix(self.postfix, refresh=refresh)

    def set_description(self, desc: str) -> None:
        self.desc = desc
        if self._tqdm is not None:
            self._tqdm.set_description(desc)

    def write(self, msg: str) -> None:
        """A message that does not break the bar (printed in ``lines`` mode as well)."""
        if self._tqdm is not None:
            self._tqdm.write(msg, file=self.stream)
        elif self.mode == "lines":
            print(msg, file=self.stream, flush=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.mode == "lines" and (self._printed
                                       or time.perf_counter() - self._t0 >= self.every):
            self._line(done=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plain lines --------------------------------------------------------------------------
    def _line(self, done: bool = False) -> None:
        self._printed = True
        dt = time.perf_counter() - self._t0
        count = f"{self.n:,}" + (f"/{self.total:,}" if self.total else "")
        parts = [f"{count} {self.unit}"]
        if self.total and not done:
            parts[0] += f" ({100.0 * self.n / self.total:.0f}%)"
        parts.append(format_seconds(dt))
        rate = (self.n - self._initial) / dt if dt > 0 else 0.0
        if not done and self.total and rate > 0:
            parts.append("ETA " + format_seconds((self.total - self.n) / rate))
        if done:
            parts.append("done")
        post = ", ".join(f"{k} {v}" for k, v in self.postfix.items())
        head = f"{self.desc}: " if self.desc else ""
        print(head + ", ".join(parts) + (f" [{post}]" if post else ""), file=self.stream,
              flush=True)


def progress(total: int | None = None, *, desc: str = "", unit: str = "it", initial: int = 0,
             enabled: bool = True, stream=None, every: float | None = None,
             leave: bool = True) -> Bar:
    """A progress reporter over ``total`` units on ``stream`` (stderr).

    Parameters
    ----------
    total : int, optional
        Number of units (images, batches, steps); ``None`` when unknown (no ETA).
    desc, unit : str
        Label and unit name (``"token cache"``, ``"images"``).
    initial : int
        Units already done (a resumed run).
    enabled : bool
        ``False``: nothing is printed (``--no-progress``).
    stream : file, optional
        Default ``sys.stderr``.
    every : float, optional
        Seconds between plain lines when ``stream`` is not a terminal (default
        ``$LATTIQ_PROGRESS_EVERY``, else 15).
    leave : bool
        Keep the finished bar on the terminal (``False`` for a bar inside another step).
    """
    stream = stream if stream is not None else sys.stderr
    if every is None:
        try:
            every = float(os.environ.get("LATTIQ_PROGRESS_EVERY", "15"))
        except ValueError:
            every = 15.0
    return Bar(total, desc, unit, initial, _mode(enabled, stream), stream, every, leave)


def track(iterable: Iterable, total: int | None = None, **kw: Any) -> Iterator:
    """Iterate over ``iterable`` with a :func:`progress` reporter (one unit per item)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with progress(total, **kw) as bar:
        for item in iterable:
            yield item
            bar.update(1)
