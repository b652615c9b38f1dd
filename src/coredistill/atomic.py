"""Writes that a crash cannot tear: every file and folder this package produces goes through here.

A writer fills a temp sibling (same folder, so the final rename stays on one file system), flushes and fsyncs
it, renames it over the target and fsyncs the folder; a reader sees the old content or the new, never a mix.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator


def config_hash(config: Any, length: int = 16) -> str:
    """A stable short hash of a JSON-like configuration (key order does not matter; unknown types by ``str``)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:length]


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_mode(mode: int = 0o666) -> int:
    """``mode`` under the process's umask: what a plain ``open`` would create (temp files start private)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def sync_file(f: IO) -> None:
    f.flush()
    os.fsync(f.fileno())


@contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """``with atomic_file(p) as f: ...`` writes ``p`` atomically: the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())  # mkstemp makes 0600: the file gets the user's usual permissions
        with os.fdopen(fd, mode) as f:
            yield f
            sync_file(f)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    with atomic_file(path, "w") as f:
        f.write(text)
    return Path(path)


def write_with(path: str | Path, write: Callable[[IO], Any]) -> Path:
    """``write(f)`` into ``path`` atomically (``torch.save``, ``np.save``, ``json.dump`` ...)."""
    with atomic_file(path) as f:
        write(f)
    return Path(path)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """``with atomic_dir(p) as tmp: ...`` fills the temp sibling folder ``tmp`` (named ``.<name>.tmp-*``, which
    :func:`coredistill.outputs.recover` knows), then moves it to ``p`` whole, replacing an existing ``p``; on an
    error nothing of it stays."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        os.chmod(tmp, file_mode(0o777))  # mkdtemp makes 0700: the folder gets the user's usual permissions
        yield tmp
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_dir(tmp: Path, path: Path) -> None:
    """Move the finished folder ``tmp`` to ``path``, replacing an existing ``path`` (old one removed after)."""
    fsync_dir(tmp)
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    fsync_dir(path.parent)
