"""Where a run writes its artifact: checked before any work, locked while the run holds it, never a user's folder.

* :func:`check_out` refuses, before anything is computed, an output that exists (unless replacing is asked), that
  is not a coredistill artifact or an empty folder (replacing never deletes anything else), or that cannot be
  written (a read-only parent, a path under a file).
* :func:`hold` takes an exclusive lock beside the output for the whole run: a second run on the same output gets
  a clear error naming the process that holds it, instead of clobbering its checkpoints.
* :func:`recover` undoes what a killed save left: the artifact a replacement had moved aside is put back, and
  temporary folders of dead saves are removed.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ArtifactError

MANIFEST = "manifest.json"
TENSORS = "tensors.pt"


def is_artifact(path: Path) -> bool:
    """A folder coredistill saved: a manifest with a format version, and tensors."""
    if not (path.is_dir() and (path / MANIFEST).is_file() and (path / TENSORS).is_file()):
        return False
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "format_version" in manifest


def check_out(path: str | Path, *, overwrite: bool = False, name: str = "out") -> Path:
    """``path`` as a place this run may write its artifact to; refuses with the reason otherwise."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise ArtifactError(f"{name}={str(path)!r}: expected a path that does not exist yet (pass --overwrite / "
                                "overwrite=True to replace a coredistill artifact)")
        if path.is_symlink() or not path.is_dir():
            raise ArtifactError(f"{name}={str(path)!r}: expected a coredistill artifact or an empty folder to replace "
                                "(it is a file; nothing was removed)")
        if not is_artifact(path) and any(path.iterdir()):
            shown = ", ".join(sorted(p.name for p in path.iterdir())[:4])
            raise ArtifactError(f"{name}={str(path)!r}: expected a coredistill artifact or an empty folder to replace "
                                f"(it holds other files: {shown}...; nothing was removed)")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ArtifactError(f"{name}={str(path)!r}: expected a path in a folder ({str(ancestor)!r} is a file)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ArtifactError(f"{name}={str(path)!r}: expected a writable location ({str(ancestor)!r} is not writable)")
    return path


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


_HELD: dict[Path, int] = {}  # outputs this process holds, and how many nested holds


@contextmanager
def hold(path: str | Path) -> Iterator[Path]:
    """An exclusive lock on output ``path`` (a lock file beside it) for the ``with`` block; released when the
    process ends in any way, so a killed run never leaves it held. Nested holds in one process share the lock."""
    import fcntl

    path = Path(path)
    key = path.absolute()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(path)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise ArtifactError(f"out={str(path)!r}: expected an output no other run is writing (held by process "
                                f"{holder}); wait for it, or choose another --out") from None
        try:  # the holder before us may have removed the file after we opened it: lock the one at the path
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _HELD[key] = 1
        try:
            yield path
        finally:
            del _HELD[key]
            lock.unlink(missing_ok=True)  # while still locked: a run that opened it meanwhile sees it is stale
    finally:
        os.close(fd)


def recover(path: str | Path) -> list[str]:
    """Undo what killed saves of ``path`` left behind (call while holding its lock): put back an artifact a
    replacement had moved aside when ``path`` is gone, and remove the temporary folders. Returns what was done."""
    path = Path(path)
    done = []
    if not path.parent.is_dir():
        return done
    for old in sorted(path.parent.glob(f".{path.name}.old-*")):
        inner = old / path.name
        if not path.exists() and is_artifact(inner):
            os.replace(inner, path)
            done.append(f"restored {path} (a replacement was killed before it was in place)")
        shutil.rmtree(old, ignore_errors=True)
    for tmp in sorted(path.parent.glob(f".{path.name}.tmp-*")):
        shutil.rmtree(tmp, ignore_errors=True)
        done.append(f"removed {tmp.name} (a killed save's temporary folder)")
    return done
