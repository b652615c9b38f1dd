"""Atomic checkpoints of a distillation run: write to a temp file, fsync, rename; keep the previous one.

Beside them, :class:`EvalProgress` keeps the accuracies of the eval nets a run has finished, so that a run stopped
in one of its evaluations continues with the nets it had not finished.

A checkpoint holds plain data only (tensors, numbers, strings, lists, dicts) and is read with
``torch.load(weights_only=True)``: a checkpoint someone hands you cannot run code. Rotation is two renames
(current → previous, next → current); a kill between them leaves the complete next file, and the loader takes
the newest complete state among next, current and previous, and says which one it used.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..atomic import config_hash, fsync_dir, write_text, write_with
from ..data.dataset import recorded_identity
from ..errors import CheckpointError
from ..plain_files import load_plain, why_unreadable

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
NEXT = ".checkpoint.next.pt"  # complete before the rotation renames it to CHECKPOINT
FORMAT = 3  # 3: plain data only (loaded with weights_only=True); 2: method state is part of a checkpoint


def save_checkpoint(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` as ``checkpoint.pt``; the one it replaces becomes ``checkpoint.prev.pt``."""
    current = folder / CHECKPOINT
    data = {"format": FORMAT, **state}
    tmp = write_with(folder / NEXT, lambda f: torch.save(data, f))
    if current.exists():
        os.replace(current, folder / PREVIOUS)
    os.replace(tmp, current)
    fsync_dir(folder)
    return folder / CHECKPOINT


def _read(path: Path) -> dict[str, Any]:
    state = load_plain(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"format {state.get('format') if isinstance(state, dict) else None!r}, expected {FORMAT}")
    if not isinstance(state.get("iteration"), int):
        raise ValueError("no iteration count")
    return state


def load_checkpoint(folder: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The newest complete checkpoint in ``folder`` (``None`` when there is none): of the rotation's next, current
    and previous files, the readable one with the most iterations; ``state["file"]`` names it. Refuses another
    run's checkpoint, and a folder whose checkpoints are all unreadable."""
    state = newest_checkpoint(folder)
    if state is None:
        return None
    saved = comparable(state.get("config", {}), config)
    if config_hash(saved) != config_hash(config):
        keys = differing_keys(saved, config)
        raise CheckpointError(f"checkpoint {str(folder / state['file'])!r} belongs to a different run: config keys "
                              f"{', '.join(keys)} differ. Use the same settings, or start afresh without --resume "
                              "(or another --out).")
    return state


def newest_checkpoint(folder: Path) -> dict[str, Any] | None:
    """The newest readable state of ``folder``'s rotation, whichever run wrote it (``None`` when there is none;
    ``state["skipped"]`` says why the others were passed over); refuses a folder whose checkpoints are all
    unreadable."""
    found = [folder / name for name in (NEXT, CHECKPOINT, PREVIOUS) if (folder / name).is_file()]
    if not found:
        return None
    states, errors = [], []
    for path in found:
        try:
            states.append({**_read(path), "file": path.name})
        except Exception as e:  # noqa: BLE001 — a torn, foreign or tampered file: try the others
            errors.append(f"{path.name}: {why_unreadable(e)}")
    if not states:
        raise CheckpointError(f"checkpoints in {str(folder)!r} cannot be read ({'; '.join(errors)}). Start afresh "
                              "without --resume (or with another --out).")
    state = max(states, key=lambda s: s["iteration"])
    state["skipped"] = errors
    return state


def warn_on_resume(state: dict[str, Any], what: str, step: str = "iteration", stacklevel: int = 3) -> None:
    """The warnings a resume owes its user: another torch thread count (float rounding may then differ from an
    uninterrupted run), and a checkpoint other than the newest one of the rotation."""
    if state.get("threads") not in (None, torch.get_num_threads()):
        warnings.warn(f"resuming {what} checkpointed with {state['threads']} torch threads on "
                      f"{torch.get_num_threads()}: results may differ from an uninterrupted run at float "
                      "rounding (set the same thread count for a bit-identical resume)", stacklevel=stacklevel)
    if state["file"] != CHECKPOINT or state["skipped"]:
        warnings.warn(f"resumed from {state['file']} at {step} {state['iteration']} of {what} (the newest complete "
                      f"checkpoint; {'; '.join(state['skipped']) or 'the rotation was interrupted'})",
                      stacklevel=stacklevel)


def comparable(saved: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A stored run's (or expert buffer's) config as the new ``config`` is compared with it: its data identity as
    :func:`~coredistill.data.dataset.recorded_identity` reads it, so a checkpoint or buffer moved to another clone
    or data folder, or recorded by an older version, still belongs to the same run."""
    data, now = saved.get("dataset"), config.get("dataset")
    if isinstance(data, dict) and isinstance(now, dict):
        return {**saved, "dataset": recorded_identity(data, now)}
    return saved


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


EVALS = "evals"  # the subfolder of a run's checkpoint folder that holds its evaluations' progress


def tensor_digest(tensor: torch.Tensor) -> str:
    """A content hash of a tensor (dtype, shape and bytes): what an evaluation's key says about its inputs."""
    t = tensor.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{t.dtype}{tuple(t.shape)}".encode())
    digest.update(t.numpy().tobytes())
    return digest.hexdigest()[:16]


class EvalProgress:
    """The eval nets of one evaluation that have been tested, kept as ``evals/<name>.json`` in a run's checkpoint
    folder: ``done()`` for :func:`~coredistill.evaluate.evaluate`'s ``done``, ``record`` as its ``on_net``. Each
    net depends only on its own seed, so continuing with the rest gives the uninterrupted evaluation's accuracies.
    ``key`` is everything the evaluation depends on (its images' and labels' :func:`tensor_digest`, the settings);
    a file of another key (other images after a change) is not read and is overwritten. Plain JSON: nothing in it
    can run code. ``folder`` None keeps nothing (a run without checkpoints).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> EvalProgress(folder, "final-ConvNet", {"images": "ab12"}).record(1, 0.9)
    >>> EvalProgress(folder, "final-ConvNet", {"images": "ab12"}).done()
    {1: 0.9}
    >>> EvalProgress(folder, "final-ConvNet", {"images": "cd34"}).done()  # another evaluation's inputs
    {}
    """

    def __init__(self, folder: Path | None, name: str, key: dict[str, Any]) -> None:
        self.path = None if folder is None else Path(folder) / EVALS / f"{name}.json"
        self.key = config_hash(key)
        self._done: dict[int, float] | None = None

    def done(self) -> dict[int, float]:
        if self._done is None:
            self._done = {}
            if self.path is not None and self.path.is_file():
                try:
                    stored = json.loads(self.path.read_text())
                    if stored.get("key") == self.key:
                        done = {int(i): float(a) for i, a in stored["accuracies"].items()}
                        if not all(i >= 0 and 0.0 <= a <= 1.0 for i, a in done.items()):
                            raise ValueError("an entry that is not a net index and an accuracy")
                        self._done = done
                except (ValueError, KeyError, TypeError, AttributeError) as e:  # torn or foreign: start it again
                    warnings.warn(f"evaluation progress {str(self.path)!r} unreadable ({e}): its nets train again",
                                  stacklevel=2)
        return dict(self._done)

    def record(self, net: int, accuracy: float) -> None:
        if self.path is None:
            return
        self._done = {**self.done(), net: float(accuracy)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text(self.path, json.dumps({"key": self.key, "accuracies": {str(i): a for i, a in
                                                                          sorted(self._done.items())}}))


def evaluations_kept(folder: Path) -> dict[str, dict[int, float]]:
    """Every evaluation whose progress a run's checkpoint folder keeps: its name (``curve-<iteration>``,
    ``final-<model>``) and the accuracies of the nets tested so far, by net, whatever inputs they were for (a
    reader's view, e.g. of how far a running grid is; a torn file is left out). Reads only.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> EvalProgress(folder, "curve-4", {}).record(1, 0.5)
    >>> evaluations_kept(folder)
    {'curve-4': {1: 0.5}}
    """
    kept = {}
    for path in sorted((Path(folder) / EVALS).glob("*.json")):
        try:
            kept[path.stem] = {int(i): float(a) for i, a in sorted(json.loads(path.read_text())["accuracies"].items(),
                                                                   key=lambda item: int(item[0]))}
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return kept
