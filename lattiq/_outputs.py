"""Output paths checked before long computations, and write errors as ``ValueError``.

The ``lattiq`` commands that write files (``report``, ``codes export``, ``codes plot``)
call :func:`check_output_dir` or :func:`check_output_file` on their arguments first, so a
typo in a path, a missing or read-only folder, or a wrong suffix is refused in a moment
instead of after minutes of work; :func:`writing` turns the ``OSError`` of a write that
still fails (a full disk) into a ``ValueError`` naming the file, which the command line
prints as one ``lattiq: error:`` line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["check_output_dir", "check_output_file", "writing"]


def _existing_ancestor(p: str) -> str:
    """``p`` itself if it exists, else its nearest existing ancestor."""
    cur = os.path.abspath(p)
    while not os.path.lexists(cur):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return cur


def check_output_dir(path, what: str = "output folder") -> str:
    """Refuse (``ValueError``) a folder that is not one or cannot be created or written.

    A missing folder is fine when its nearest existing ancestor is a writable folder (it
    will be created). Returns the path as a string.
    """
    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(f"{what} must be a path, got {type(path).__name__}") from None
    if not p:
        raise ValueError(f"{what}: empty path")
    if os.path.lexists(p) and not os.path.isdir(p):
        raise ValueError(f"{what} {p!r} exists and is not a folder")
    anc = _existing_ancestor(p)
    if not os.path.isdir(anc):
        raise ValueError(f"cannot create {what} {p!r}: {anc!r} is not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {p!r} is not writable (no write permission on {anc!r})")
    return p


def check_output_file(path, suffixes: Sequence[str] | None = None,
                      what: str = "output file") -> str:
    """Refuse (``ValueError``) a file path that is a folder, has none of ``suffixes``
    (case-insensitive; ``None`` accepts any), or lies in a folder that cannot be created
    or written, or names an existing file that cannot be overwritten."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(f"{what} must be a path, got {type(path).__name__}") from None
    if not p or p.endswith(("/", os.sep)) or os.path.isdir(p):
        raise ValueError(f"{what} {p!r} is a folder, not a file name")
    if suffixes is not None and not p.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise ValueError(f"{what} {p!r} must end in {', '.join(suffixes)}")
    check_output_dir(os.path.dirname(p) or ".", f"folder of the {what}")
    if os.path.lexists(p) and not os.access(p, os.W_OK):
        raise ValueError(f"{what} {p!r} exists and is not writable")
    return p


@contextmanager
def writing(path, what: str = "file") -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` into a ``ValueError`` naming it."""
    try:
        yield
    except OSError as err:
        reason = err.strerror or str(err)
        raise ValueError(f"cannot write {what} {os.fspath(path)!r}: {reason}") from None
