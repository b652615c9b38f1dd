"""The layouts the field's code saves distilled sets in, and the one safe way to read their files.

A layout reader returns the tensors as the file holds them (:class:`ReleasedTensors`); turning them into a
:class:`~coredistill.artifacts.DistilledSet` (shape, labels, normalization, ZCA) is :func:`..load_released`'s job,
the same for every layout. Files are read with ``torch.load(weights_only=True)`` / ``np.load(allow_pickle=False)``:
a received file never runs code.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArtifactError
from ..plain_files import load_plain, why_unreadable
from ..registry import Registry


@dataclass
class ReleasedTensors:
    """What a layout's files hold: ``images`` (N, C, H, W) or (N, H, W, C); ``labels`` (N,) class indices or
    (N, K) targets; ``learned_lr`` the evaluation lr the method learned (MTT/DATM), if saved; ``files`` read;
    ``label_logits``: the layout's (N, K) targets are logits its method trains through a softmax (DATM's learned
    labels), so ``labels="auto"`` keeps their softmax as soft labels instead of their argmax."""

    images: Any
    labels: Any
    learned_lr: float | None = None
    files: list[Path] = field(default_factory=list)
    label_logits: bool = False


class Layout:
    """One saved-set layout: ``matches(path)`` says whether ``path`` looks like it (for ``layout="auto"``),
    ``read(path, **options)`` returns its :class:`ReleasedTensors`, ``write(path, tensors)`` saves them so that
    ``read`` gives them back (atomically; the caller has checked ``path``; (N, K) labels come as distributions or
    targets, ``label_logits`` False). ``holds`` names what of a set beyond images and class indices the layout can
    carry: ``"soft_labels"`` (distributions), ``"targets"`` ((N, K) regression targets, RFAD's learned labels),
    ``"learned_lr"``; ``is_folder`` whether ``path`` is a folder. A layout that only reads leaves ``write`` alone."""

    name: str = ""
    description: str = ""
    holds: tuple[str, ...] = ()
    is_folder: bool = False

    def matches(self, path: Path) -> bool:
        raise NotImplementedError

    def read(self, path: Path, **options: Any) -> ReleasedTensors:
        raise NotImplementedError

    def write(self, path: Path, tensors: ReleasedTensors) -> list[Path]:
        raise NotImplementedError

    def owns(self, name: str) -> bool:
        """Whether a file of this name in a folder layout's folder is one of the layout's own (an export replaces
        only a folder of them)."""
        return False


LAYOUTS: Registry[Layout] = Registry("layout")


def register(cls: type[Layout]) -> type[Layout]:
    LAYOUTS.register(cls.name, cls())
    return cls


def torch_file(path: Path) -> Any:
    """A ``.pt`` file's contents as plain data (tensors, numbers, lists, dicts); anything else is refused."""
    if not path.is_file():
        raise ArtifactError(f"file={str(path)!r}: expected an existing file")
    try:
        return load_plain(path)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is the file's fault, reported by name
        raise ArtifactError(f"file={str(path)!r}: cannot be read as plain tensors ({why_unreadable(e)})") from None


def npz_file(path: Path) -> dict[str, np.ndarray]:
    """An ``.npz`` archive's arrays (object arrays, which would unpickle, are refused)."""
    if not path.is_file():
        raise ArtifactError(f"file={str(path)!r}: expected an existing file")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001
        raise ArtifactError(f"file={str(path)!r}: cannot be read as an .npz of plain arrays ({type(e).__name__}: "
                            f"{str(e).splitlines()[0][:300] if str(e) else ''})") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
