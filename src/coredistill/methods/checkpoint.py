"""Atomic checkpoints of a distillation run: write to a temp file, fsync, rename; keep the previous one."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..atomic import config_hash, fsync_dir, write_with
from ..errors import CheckpointError

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
FORMAT = 2  # 2: method state (learned labels, kernel draws) is part of a checkpoint


def save_checkpoint(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` as ``checkpoint.pt``; the one it replaces becomes ``checkpoint.prev.pt``."""
    current = folder / CHECKPOINT
    data = {"format": FORMAT, **state}
    tmp = write_with(folder / ".checkpoint.next.pt", lambda f: torch.save(data, f))
    if current.exists():
        os.replace(current, folder / PREVIOUS)
    os.replace(tmp, current)
    fsync_dir(folder)
    return folder / CHECKPOINT


def load_checkpoint(folder: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The latest checkpoint in ``folder`` if there is one; refuses a corrupt one or another run's."""
    path = folder / CHECKPOINT
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"format {state.get('format') if isinstance(state, dict) else None!r}, expected {FORMAT}")
    except Exception as e:
        prev = folder / PREVIOUS
        hint = (f" The previous checkpoint {str(prev)!r} is intact: move it to {str(path)!r} to resume from it."
                if prev.exists() else "")
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt ({type(e).__name__}: {e}).{hint}") from None
    saved = state.get("config", {})
    if config_hash(saved) != config_hash(config):
        keys = differing_keys(saved, config)
        raise CheckpointError(f"checkpoint {str(path)!r} belongs to a different run: config keys {', '.join(keys)} "
                              "differ. Use the same settings, or start afresh without --resume (or another --out).")
    return state


def differing_keys(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the entries where two nested configurations differ (down to the first non-mapping)."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += differing_keys(x, y, f"{prefix}{k}.")
        elif x != y:
            out.append(f"{prefix}{k}")
    return out
