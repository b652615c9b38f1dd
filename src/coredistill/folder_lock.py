"""One writer per folder: a grid's results, an expert buffer and a run's checkpoints are written by one process
at a time.

Two processes resuming the same folder would both run its unfinished work, and both rotate the same
checkpoints — each resuming from files the other is replacing. :func:`exclusive` holds an advisory lock
(``flock``) on a file in the folder for as long as the block runs; the operating system releases it when its
process ends, however it ends, so a killed run never leaves the folder locked. A second writer is refused at once,
naming the process that holds the folder. Readers (a report of what a running grid has finished) take no lock.
Where ``flock`` does not exist (Windows) the lock is not taken.
"""
from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .atomic import file_mode
from .errors import invalid

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

LOCK = ".coredistill-lock"


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it (the holder may not have written it yet)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode())
        return f"process {info['pid']} ({info['command']!r}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def exclusive(folder: str | Path, parameter: str) -> Iterator[Path]:
    """``with exclusive(out, "out"): ...`` — write ``folder`` (created if missing) with no other process writing
    it; another holder makes this raise :class:`~coredistill.errors.InvalidParameterError` naming ``parameter``,
    the folder and the process that holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield folder
        return
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, file_mode(0o666))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise invalid(parameter, str(folder), f"a folder no other process is writing: {_holder(fd)} is "
                                                  "writing it; wait for it to end or use another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv),
                                  "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)
        yield folder
    finally:
        os.close(fd)  # releases the lock


def holder(folder: str | Path) -> str | None:
    """Who is writing ``folder`` now (as :func:`exclusive` words it), or ``None`` when no process is."""
    path = Path(folder) / LOCK
    if fcntl is None or not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
