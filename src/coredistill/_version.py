"""The package version, and the source revision it runs from, in a leaf module any part of the package can import."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def source_revision() -> str | None:
    """The git commit of the checkout this package is imported from, with ``+dirty`` when its ``src/`` differs
    from that commit; ``None`` outside a git checkout (an installed wheel). A stored result names the code that
    made it: the version string alone does not move between commits. Read once per process."""
    src = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(src), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if src.name != "src" or git("rev-parse", "--show-toplevel") is None:
        return None
    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    return commit + ("+dirty" if git("status", "--porcelain", "--", ".") else "")
