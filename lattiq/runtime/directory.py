"""Run directories: one writer at a time, nothing overwritten by accident, clean resumes.

A training command calls :func:`open_run_dir` before it writes anything. On the main
process that

* creates the directory and takes its lock (``run.lock``, an exclusive ``flock`` on a file
  holding the holder's pid and host): a second writer is refused, naming the holder; a
  lock left by a process that has died (the kernel drops a ``flock`` with its holder, even
  after ``kill -9``) is taken over with a warning. Creating the lock file is also the
  check that the directory can be written at all;
* refuses to start a new run over one that has checkpoints unless ``overwrite`` (which
  deletes what a run writes: checkpoints, log, config and image folders) or ``resume``;
* removes what an interrupted checkpoint write leaves (``checkpoints/.step_*.tmp-*``) and
  finishes an interrupted replacement (``.step_*.old-*``).

:meth:`RunDir.truncate_log` then keeps only the ``log.jsonl`` records at or before the step
the run starts from, so that no step is logged twice, and :meth:`RunDir.check_space`
refuses to start when the disk cannot hold the checkpoints. Under ``torchrun`` the main
process decides and every process raises the same error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch.distributed as dist

__all__ = ["LOCK_NAME", "RunDir", "RunLock", "check_output_file", "open_run_dir"]

#: File in the run directory that holds the lock.
LOCK_NAME = "run.lock"
#: What ``overwrite`` deletes (besides the names a script adds, e.g. ``images``).
RUN_OUTPUTS = ("checkpoints", "log.jsonl", "config.json")
_TMP_ENTRY = re.compile(r"^\.(step_\d{8})\.(tmp|old)-\d+$")
_TMP_FILE = re.compile(r"^\..+\.tmp-\d+(\.png)?$")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _warn(msg: str) -> None:
    _say(f"warning: {msg}")


def _os_error(e: OSError, what: str) -> OSError:
    """An error of ``e``'s type and errno whose message says what was done, where, and why."""
    out = type(e)(f"{what}: {e.strerror or e}")
    out.errno = e.errno
    return out


# ---------------------------------------------------------------------------------------------
# Lock
# ---------------------------------------------------------------------------------------------


class RunLock:
    """An exclusive lock on a run directory, held while this object is open.

    Taken with :meth:`acquire`; :meth:`release` (or leaving a ``with`` block) removes the
    lock file and drops the lock.
    """

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_dir: str | os.PathLike, warn: Callable[[str], None] = _warn
                ) -> RunLock:
        """Lock ``run_dir`` (created if missing) for this process.

        Raises
        ------
        ValueError
            If another process holds the lock (the message names its pid and host).
        OSError
            If the directory cannot be created or written (read-only, permissions, ...).
        """
        import fcntl

        d = Path(run_dir)
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _os_error(e, f"cannot create run directory {str(d)!r}") from None
        path = d / LOCK_NAME
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as e:
                raise _os_error(e, f"cannot write to run directory {str(d)!r}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                who = (f"pid {holder.get('pid')} on host {holder.get('host')!r}"
                       if holder.get("pid") is not None else "another process")
                raise ValueError(
                    f"run directory {str(d)!r} is in use by {who} (lock file {path}); wait "
                    "for that run to end or stop it before writing here"
                ) from None
            # the holder before us may have removed the file between our open and flock
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        prev = _read_holder(fd)
        if prev.get("pid") is not None:
            host = prev.get("host")
            where = "" if host == socket.gethostname() else (
                f" (on host {host!r}: make sure no run there still writes here)")
            warn(f"run directory {str(d)!r}: taking over the lock left by pid {prev['pid']}"
                 f"{where}, which no longer holds it (it was killed or crashed)")
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "argv": sys.argv}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
            os.fsync(fd)
        except OSError as e:
            os.close(fd)
            raise _os_error(e, f"cannot write to run directory {str(d)!r}") from None
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file and drop the lock (no-op if already released)."""
        if self._fd is None:
            return
        try:
            if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                os.unlink(self.path)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:  # pragma: no cover - a safety net; release() is the way
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def _read_holder(fd: int) -> dict:
    """The pid/host record in a lock file (``{}`` if empty or unreadable)."""
    try:
        raw = os.pread(fd, 4096, 0)
        rec = json.loads(raw.decode("utf-8", "replace")) if raw.strip() else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(rec, dict):
        return {}
    pid = rec.get("pid")
    return {"pid": pid if type(pid) is int else None, "host": str(rec.get("host", "?"))}


# ---------------------------------------------------------------------------------------------
# Run directory
# ---------------------------------------------------------------------------------------------


class RunDir:
    """A run directory opened by :func:`open_run_dir` (the lock is held on the main process).

    Use it as a context manager, or call :meth:`close` when the run ends.
    """

    def __init__(self, path: Path, lock: RunLock | None, is_main: bool,
                 say: Callable[[str], None] | None = None):
        self.path = path
        self.lock = lock
        self.is_main = is_main
        self.say = say

    def truncate_log(self, step: int, name: str = "log.jsonl") -> int:
        """Keep the log records of steps ``<= step``; returns how many were dropped.

        Records without a ``step`` are kept if they come before the first dropped one; a
        line that is not JSON (the torn end of a killed write) is dropped. The file is
        rewritten atomically. Main process only; a no-op elsewhere.
        """
        p = self.path / name
        if not self.is_main or not p.is_file():
            return 0
        lines = p.read_bytes().splitlines(keepends=True)
        keep: list[bytes] = []
        dropped = 0
        cut = False
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                dropped += 1
                continue
            s = rec.get("step") if isinstance(rec, dict) else None
            if isinstance(s, (int, float)) and s > step:
                cut = True
                dropped += 1
            elif cut and s is None:
                dropped += 1
            else:
                keep.append(line if line.endswith(b"\n") else line + b"\n")
        if dropped:
            tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
            with open(tmp, "wb") as fh:
                fh.write(b"".join(keep))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, p)
            if self.say is not None:
                self.say(f"{p}: dropped {dropped} record(s) after step {step} (those steps "
                         "are run again)")
        return dropped

    def check_space(self, checkpoint_bytes: int, keep: int) -> None:
        """Refuse to start if the disk cannot hold ``keep`` checkpoints plus one being written.

        ``checkpoint_bytes`` is an estimate of one checkpoint; checkpoints already in the
        directory count as space that will be reused. Main process only.
        """
        if not self.is_main:
            return
        existing = _steps(self.path / "checkpoints")
        per = int(checkpoint_bytes * 1.1) + (1 << 20)
        need = max(0, keep + 1 - len(existing)) * per
        free = shutil.disk_usage(self.path).free
        if free < need:
            err = OSError(
                f"not enough free disk space for run directory {str(self.path)!r}: "
                f"{keep} checkpoint(s) of about {_mb(per)} plus one being written need "
                f"{_mb(need)} more, {_mb(free)} is free (lower keep_checkpoints, or free "
                "space)"
            )
            err.errno = 28  # ENOSPC
            raise err

    def close(self) -> None:
        """Release the lock."""
        if self.lock is not None:
            self.lock.release()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _steps(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"step_\d{8}", p.name))


def _has_checkpoints(run_dir: Path) -> str | None:
    """The name of the latest checkpoint in ``run_dir`` (``None`` if it has none)."""
    root = run_dir / "checkpoints"
    latest = root / "latest"
    if latest.is_file():
        return latest.read_text(errors="replace").strip() or "latest"
    steps = _steps(root)
    return steps[-1].name if steps else None


def clean_leftovers(run_dir: Path, folders: Iterable[str] = ()) -> list[str]:
    """Remove what an interrupted write left in ``run_dir``; returns the names removed.

    ``checkpoints/.step_*.tmp-*`` (a checkpoint being written) is deleted. A
    ``checkpoints/.step_*.old-*`` (a checkpoint being replaced) is put back if the new one
    never arrived, else deleted. ``.*.tmp-*`` files from atomic writes of the log, config
    and images are deleted, in ``run_dir`` and its sub-folders ``folders``. Call only with
    the lock held.
    """
    removed: list[str] = []
    root = run_dir / "checkpoints"
    if root.is_dir():
        for p in sorted(root.iterdir()):
            m = _TMP_ENTRY.match(p.name)
            if m and p.is_dir():
                final = root / m.group(1)
                if m.group(2) == "old" and not final.exists():
                    os.replace(p, final)
                    continue
                shutil.rmtree(p, ignore_errors=True)
                removed.append(f"checkpoints/{p.name}")
            elif _TMP_FILE.match(p.name) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(f"checkpoints/{p.name}")
    for folder in (run_dir, *(run_dir / f for f in folders)):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if _TMP_FILE.match(p.name) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(str(p.relative_to(run_dir)))
    return removed


def open_run_dir(
    run_dir: str | os.PathLike,
    info: Any = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    outputs: Iterable[str] = (),
    say: Callable[[str], None] = _say,
) -> RunDir:
    """Lock ``run_dir`` for a training run and make it ready; see the module docstring.

    Parameters
    ----------
    run_dir : path
    info : DistInfo, optional
        This process's place in a ``torchrun`` group (single process if ``None``).
    resume : bool
        The run continues from the directory's latest checkpoint.
    overwrite : bool
        Delete the previous run's outputs (``checkpoints``, ``log.jsonl``, ``config.json``
        and the names in ``outputs``) first. Other files are left alone.
    outputs : names
        Further outputs of this kind of run, deleted by ``overwrite`` (``images``).
    say : callable
        Where warnings and notes go.

    Raises
    ------
    ValueError
        The directory is locked by another run; or it holds checkpoints and neither
        ``resume`` nor ``overwrite`` was given; or both were given.
    OSError
        The directory cannot be created or written.
    """
    d = Path(run_dir)
    is_main = info is None or info.is_main
    if resume and overwrite:
        raise ValueError("--resume continues a run and --overwrite deletes it: choose one")
    err: BaseException | None = None
    lock = None
    if is_main:
        try:
            lock = RunLock.acquire(d, warn=lambda m: say(f"warning: {m}"))
            try:
                latest = _has_checkpoints(d)
                if latest and not resume and not overwrite:
                    raise ValueError(
                        f"run directory {str(d)!r} already holds a run (latest checkpoint "
                        f"{latest}); pass --resume to continue it, or --overwrite to delete "
                        "its checkpoints and log and start again"
                    )
                if overwrite:
                    gone = [n for n in (*RUN_OUTPUTS, *outputs) if (d / n).exists()]
                    for n in gone:
                        p = d / n
                        shutil.rmtree(p) if p.is_dir() else p.unlink()
                    if gone:
                        say(f"--overwrite: deleted {', '.join(gone)} in {d}")
                removed = clean_leftovers(d, (*outputs, "token_cache"))
                if removed:
                    say(f"removed {len(removed)} leftover(s) of an interrupted write in {d}: "
                        + ", ".join(removed[:4]) + (" ..." if len(removed) > 4 else ""))
            except BaseException:
                lock.release()
                raise
        except (ValueError, OSError) as e:
            err = e
    if info is not None and getattr(info, "distributed", False):
        box = [None if err is None else (type(err).__name__, str(err))]
        dist.broadcast_object_list(box, src=0)
        if box[0] is not None and err is None:
            kind, msg = box[0]
            err = ValueError(msg) if kind == "ValueError" else OSError(msg)
    if err is not None:
        raise err
    return RunDir(d, lock, is_main, say)


def check_output_file(path: str | os.PathLike, *, overwrite: bool = False,
                      what: str = "output file") -> Path:
    """Check before a long computation that ``path`` can be written, and is not in the way.

    Creates the parent directory and probes it with a temporary file. Refuses an existing
    file unless ``overwrite``, and a directory always.

    Raises
    ------
    ValueError
        ``path`` exists (a directory, or a file without ``overwrite``).
    OSError
        The parent directory cannot be created or written.
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {str(p)!r} is a directory; give a file name")
    if p.exists() and not overwrite:
        raise ValueError(f"{what} {str(p)!r} already exists; pass --overwrite to replace it")
    check_writable_dir(p.parent)
    return p


def check_writable_dir(path: str | os.PathLike) -> Path:
    """Create directory ``path`` if needed and check a file can be written in it."""
    d = Path(path)
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / f".write-test-{os.getpid()}"
        with open(probe, "wb") as fh:
            fh.write(b"x")
        probe.unlink()
    except OSError as e:
        raise _os_error(e, f"cannot write to directory {str(d)!r}") from None
    return d
