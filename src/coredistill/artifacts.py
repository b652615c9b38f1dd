"""``DistilledSet``: a distilled data set saved as one directory, with full provenance.

Layout::

    run/
      manifest.json   format version, package version, data set + normalization, method, initializer
                      (chosen real indices and weights), sampler, resolved config, seeds, metrics, timings
      tensors.pt      images (as trained: normalized, ZCA-whitened if used), labels, soft labels, learned lr, ZCA
      preview.png     de-normalized grid, one row per class

Saving writes into a hidden sibling directory, fsyncs it and renames it into place, so a crash never leaves a
directory that loads.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ._version import __version__, source_revision
from .atomic import atomic_dir, file_mode, sync_file
from .data.transforms import ZCA, Normalizer
from .errors import ArtifactError
from .imagegrid import grid_png
from .outputs import MANIFEST, TENSORS, check_out, hold, recover
from .plain_files import load_plain, why_unreadable

if TYPE_CHECKING:
    from .record import RunRecord

FORMAT_VERSION = 1
PREVIEW = "preview.png"
CURVE = "curve.png"


@dataclass
class DistilledSet:
    """Synthetic images and labels, in the space they were trained in, plus their manifest.

    ``labels`` are class indices ``(N,)``; ``soft_labels`` optional ``(N, K)`` learned targets; ``learned_lr``
    the evaluation learning rate a method learned (MTT), if any.
    """

    images: torch.Tensor
    labels: torch.Tensor
    manifest: dict[str, Any] = field(default_factory=dict)
    soft_labels: torch.Tensor | None = None
    learned_lr: float | None = None
    zca: ZCA | None = None
    init_scores: torch.Tensor | None = None  # the initializer's score of every train example, if it has scores

    def __post_init__(self) -> None:
        _check_tensors(self.images, self.labels, self.soft_labels, self.learned_lr, where="DistilledSet")

    @property
    def normalizer(self) -> Normalizer:
        norm = self.manifest.get("normalization") or {}
        if "mean" not in norm:
            raise ArtifactError("manifest has no normalization.mean/std: cannot de-normalize images")
        return Normalizer(tuple(norm["mean"]), tuple(norm["std"]))

    @property
    def record(self) -> "RunRecord":
        """The manifest's results, typed (metrics, timings, curve, sampler diagnostics)."""
        from .record import RunRecord

        return RunRecord.from_manifest(self.manifest)

    def images_unit(self) -> torch.Tensor:
        """Images mapped back to [0, 1] pixel space (undoing ZCA, then normalization), clipped for display."""
        x = self.images.float()
        if self.zca is not None:
            x = self.zca.inverse(x)
        return self.normalizer.inverse(x).clamp_(0, 1)

    # --- saving -----------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False, preview: bool = True) -> Path:
        """Write the set to the folder ``path``, atomically: a reader sees the old artifact or the new one. With
        ``overwrite`` an existing coredistill artifact (or an empty folder) is replaced; anything else is refused."""
        path = Path(path)
        with hold(path):
            recover(path)  # a killed earlier save of this path: put its artifact back, drop its temporary folder
            check_out(path, overwrite=overwrite)
            return self._save(path, preview)

    def _save(self, path: Path, preview: bool) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        manifest = {**self.manifest, "format_version": FORMAT_VERSION, "package_version": __version__,
                    "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                    "num_images": len(self.images), "image_shape": list(self.images.shape[1:]),
                    "has_soft_labels": self.soft_labels is not None, "learned_lr": self.learned_lr}
        with atomic_dir(path) as tmp:
            tensors = {"images": self.images.detach().cpu().contiguous(), "labels": self.labels.cpu(),
                       "soft_labels": None if self.soft_labels is None else self.soft_labels.detach().cpu(),
                       "learned_lr": self.learned_lr,
                       "zca": None if self.zca is None else self.zca.state_dict(),
                       "init_scores": self.init_scores}
            with open(tmp / TENSORS, "wb", opener=_opener) as f:
                torch.save(tensors, f)
                sync_file(f)
            with open(tmp / MANIFEST, "w", opener=_opener) as f:
                json.dump(_jsonable(manifest), f, indent=2, sort_keys=False)
                sync_file(f)
            if preview:
                self.write_preview(tmp / PREVIEW)
                if len(manifest.get("curve") or []) >= 2:
                    from .plots import accuracy_curve

                    accuracy_curve(manifest["curve"], tmp / CURVE,
                                   title=f"{manifest.get('method', {}).get('name')} ipc {manifest.get('ipc')}")
        self.manifest = manifest
        return path

    @classmethod
    def load(cls, path: str | Path) -> "DistilledSet":
        """Read a saved set. Both files are read through one handle on the folder, so a save that replaces the
        artifact meanwhile cannot pair one version's manifest with another's tensors."""
        path = Path(path)
        if not (path / MANIFEST).is_file() or not (path / TENSORS).is_file():
            raise ArtifactError(f"artifact={str(path)!r}: expected a directory holding {MANIFEST} and {TENSORS}")
        folder = os.open(path, os.O_RDONLY)

        def read(name: str, mode: str = "rb"):
            return open(name, mode, opener=lambda n, flags: os.open(n, flags, dir_fd=folder))

        try:
            return cls._load(path, read)
        finally:
            os.close(folder)

    @classmethod
    def _load(cls, path: Path, read) -> "DistilledSet":
        try:
            with read(MANIFEST, "r") as f:
                manifest = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ArtifactError(f"artifact={str(path)!r}: {MANIFEST} is not valid JSON ({e})") from None
        if not isinstance(manifest, dict):
            raise ArtifactError(f"artifact={str(path)!r}: {MANIFEST} holds a {type(manifest).__name__}: expected a "
                                "mapping")
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise ArtifactError(f"format_version={version!r} in {str(path / MANIFEST)!r}: expected {FORMAT_VERSION} "
                                f"(this is coredistill {__version__})")
        try:
            with read(TENSORS) as f:
                t = load_plain(f)
        except Exception as e:  # noqa: BLE001 - a torn, foreign or tampered file: one clear error
            raise ArtifactError(f"artifact={str(path)!r}: {TENSORS} cannot be read ({why_unreadable(e)})") from None
        if not isinstance(t, dict) or not {"images", "labels"} <= set(t):
            raise ArtifactError(f"artifact={str(path)!r}: {TENSORS} holds {type(t).__name__}"
                                f"{' ' + str(sorted(t)) if isinstance(t, dict) else ''}: expected a mapping with "
                                "images and labels")
        _check_tensors(t["images"], t["labels"], t.get("soft_labels"), t.get("learned_lr"), where=str(path))
        if list(t["images"].shape[1:]) != list(manifest.get("image_shape", t["images"].shape[1:])) or \
                len(t["images"]) != manifest.get("num_images", len(t["images"])):
            raise ArtifactError(f"artifact={str(path)!r}: tensors of shape {tuple(t['images'].shape)} do not match the "
                                f"manifest ({manifest.get('num_images')} images of {manifest.get('image_shape')})")
        classes = (manifest.get("dataset") or {}).get("num_classes") if isinstance(manifest.get("dataset"), dict) else None
        labels = t["labels"]
        if isinstance(classes, int) and len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= classes):
            raise ArtifactError(f"artifact={str(path)!r}: labels in [{int(labels.min())}, {int(labels.max())}]: expected "
                                f"0..{classes - 1} for the manifest's {classes} classes")
        zca = ZCA.from_state_dict(t["zca"]) if t.get("zca") is not None else None
        return cls(t["images"], t["labels"], manifest, t.get("soft_labels"), t.get("learned_lr"), zca,
                   t.get("init_scores"))

    # --- views and exports --------------------------------------------------------------------------------
    def write_preview(self, path: str | Path, max_per_class: int = 10, min_cell: int = 32) -> Path:
        """A PNG grid, one row per class, up to ``max_per_class`` images per row, upscaled to ``min_cell`` px."""
        labels = self.labels.numpy()
        classes = sorted(set(labels.tolist()))
        rows = [np.flatnonzero(labels == k)[:max_per_class] for k in classes]
        names = (self.manifest.get("dataset") or {}).get("class_names") or []
        row_labels = [names[k] if k < len(names) else str(k) for k in classes]
        return grid_png(self.images_unit(), rows, path, min_cell=min_cell, row_labels=row_labels)

    def export(self, path: str | Path, layout: str = "dc", *, overwrite: bool = False,
               allow_loss: bool = False) -> list[Path]:
        """Write the set in a layout of the field's code (``dc``: ``{'data': [[images, labels]]}``, ``mtt``, ``npz``;
        :func:`coredistill.released.export_released`) and return the files written."""
        from .released import export_released

        return export_released(self, path, layout, overwrite=overwrite, allow_loss=allow_loss)


def environment() -> dict[str, str]:
    # the thread count changes results at float-summation level (dc, dsa, mtt): a run records it
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "machine": platform.machine(), "threads": torch.get_num_threads(),
            "source": source_revision()}


def _check_tensors(images: Any, labels: Any, soft: Any, lr: Any, where: str) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        raise ArtifactError(f"{where}: images={_shape(images)}: expected a float tensor (N, C, H, W)")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),) or labels.is_floating_point():
        raise ArtifactError(f"{where}: labels={_shape(labels)}: expected {len(images)} integer class indices")
    if not torch.isfinite(images).all():
        raise ArtifactError(f"{where}: images contain NaN/Inf values: expected finite values")
    if soft is not None and (not isinstance(soft, torch.Tensor) or soft.ndim != 2 or len(soft) != len(images)
                             or not torch.isfinite(soft).all()):
        raise ArtifactError(f"{where}: soft_labels={_shape(soft)}: expected finite ({len(images)}, num_classes)")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ArtifactError(f"{where}: learned_lr={lr!r}: expected a positive finite number")


def _shape(t: Any) -> str:
    return f"{t.dtype} tensor {tuple(t.shape)}" if isinstance(t, torch.Tensor) else repr(type(t).__name__)


def _opener(name: str, flags: int) -> int:
    return os.open(name, flags, file_mode())


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj
