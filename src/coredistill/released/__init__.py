"""Score the distilled sets the papers' authors released, under this library's protocol.

``load_released(path, dataset)`` reads a set saved by the field's code — DC/DSA/DM ``.pt``, MTT/DATM
``images_*.pt`` folders, RFAD/KIP ``.npz`` (:data:`LAYOUTS`; a new layout is one module here) — into a
:class:`~coredistill.artifacts.DistilledSet` that :func:`~coredistill.pipeline.evaluate_artifact` scores like any
run of ours. The file does not say which space its images are in: the caller states it (``normalization``,
``zca_eps``), and the manifest records that statement beside the files' sha256. A set evaluated in the wrong space
scores far below its paper, so the manifest also keeps the images' and the real data's pixel statistics in that
space, and a set whose statistics are far from the real data's is reported with a warning.

>>> import tempfile, torch
>>> from pathlib import Path
>>> from coredistill.data import load_dataset
>>> ds = load_dataset("digits")
>>> f = Path(tempfile.mkdtemp()) / "res_DM.pt"
>>> torch.save({"data": [[torch.randn(20, 1, 8, 8), torch.arange(20) % 10]]}, f)
>>> s = load_released(f, ds)
>>> s.manifest["source"]["layout"], s.manifest["ipc"], tuple(s.images.shape)
('dc', 2, (20, 1, 8, 8))

``export_released(set, path, layout)`` (``DistilledSet.export``) is the other direction: a set of ours in a layout
the field's scripts read, which ``load_released`` reads back unchanged.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from ..registry import import_submodules
from ..artifacts import DistilledSet
from ..data.dataset import ImageDataset
from ..data.transforms import ZCA, Normalizer
from ..config import ZCA_EPS
from ..errors import ArtifactError, invalid
from ..params import optional
from .base import LAYOUTS, Layout, ReleasedTensors, sha256

import_submodules(__name__, __path__)

LABEL_MODES = ("auto", "hard", "soft", "logits")


def list_layouts() -> list[str]:
    return LAYOUTS.names()


def writable_layouts() -> list[str]:
    """The layouts :func:`export_released` can write (a reader-only layout leaves ``Layout.write`` alone)."""
    return [name for name, layout in LAYOUTS.items() if type(layout).write is not Layout.write]


def detect_layout(path: Path) -> Layout:
    found = [layout for _, layout in LAYOUTS.items() if layout.matches(path)]
    if len(found) != 1:
        what = "matches " + ", ".join(f.name for f in found) if found else "matches none"
        raise invalid("layout", "auto", f"a path whose layout is clear ({str(path)!r} {what} of "
                      f"{', '.join(LAYOUTS.names())}): name one with layout=")
    return found[0]


def load_released(path: str | Path, dataset: ImageDataset, *, layout: str = "auto",
                  normalization: str | Mapping[str, Any] = "dataset", zca_eps: float | None = None,
                  zca_relative: bool = False, labels: str = "auto", eval_dsa: bool = True,
                  dataset_options: Mapping[str, Any] | None = None, **layout_options: Any) -> DistilledSet:
    """Read a released set into a :class:`DistilledSet` on ``dataset``.

    ``normalization``: the space the images are in before any ZCA — ``"dataset"`` (the data set's per-channel
    mean/std, what DC/DSA/DM/MTT and RFAD use), ``"none"`` (pixels in [0, 1]) or ``{"mean": [...], "std": [...]}``.
    ``zca_eps``: the images are ZCA-whitened with that eps, fitted on the train split in that normalization
    (MTT's kornia convention; ``zca_relative=True`` for KIP/RFAD's, see :class:`ZCA`). ``labels``: ``"auto"``
    keeps (N, K) targets that are distributions as soft labels, the softmax of a layout's logits (DATM's learned
    labels, which its evaluation trains on through a softmax) and the argmax of any others (RFAD's regression
    targets, which stay in the manifest's ``log.learned_labels`` for RFAD's own evaluation,
    :func:`~coredistill.pipeline.evaluate_artifact_centered`); ``"hard"`` always takes the argmax, ``"soft"``
    requires distributions, ``"logits"`` takes the softmax of any (N, K) targets. Class-index labels (N,) are hard
    labels in every mode.
    ``eval_dsa``: whether the protocol evaluates this set with DSA (the papers do for DSA, DM, MTT).
    ``layout_options`` go to the layout's reader (``experiment=`` for ``dc``, ``iteration=`` for ``mtt``,
    ``images_key=``/``labels_key=`` for ``npz``).
    """
    path = Path(path)
    if not path.exists():
        raise invalid("path", str(path), "an existing file or folder")
    reader = detect_layout(path) if layout == "auto" else LAYOUTS.get(layout)
    if labels not in LABEL_MODES:
        raise invalid("labels", labels, "one of: " + ", ".join(LABEL_MODES))
    optional(ZCA_EPS).check("zca_eps", zca_eps)
    norm = _normalizer(normalization, dataset)
    try:
        raw = reader.read(path, **layout_options)
    except TypeError as e:
        raise invalid("layout_options", sorted(layout_options), f"options of layout {reader.name!r} ({e})") from None
    images = _images(raw.images, dataset, raw.files[0])
    hard, soft, label_note = _labels(raw.labels, len(images), dataset.num_classes, labels, raw.files[-1],
                                     raw.label_logits)
    real = norm(dataset.train_float())
    zca = None
    if zca_eps is not None:
        zca = ZCA(float(zca_eps), relative=bool(zca_relative)).fit(real)
        real = zca(real)
    counts = np.bincount(hard.numpy(), minlength=dataset.num_classes)
    stats = {"images": _stats(images), "real": _stats(real)}
    _warn_if_far(stats, path)
    manifest = {
        "dataset": dataset.describe(), "dataset_options": dict(dataset_options or {}),
        "normalization": {**norm.to_dict(), "zca_eps": zca_eps, "zca_relative": bool(zca_relative)},
        "ipc": int(counts[0]) if (counts == counts[0]).all() else None,
        "method": {"name": f"released-{reader.name}", "options": dict(layout_options), "eval_dsa": bool(eval_dsa),
                   "uses_dsa": False},
        "source": {"layout": reader.name, "path": str(path.resolve()), "labels": label_note,
                   "files": [{"name": f.name, "sha256": sha256(f)} for f in raw.files], "pixel_stats": stats},
        "learned_lr": raw.learned_lr, "curve": [],
    }
    if labels == "auto" and soft is None and torch.as_tensor(raw.labels).ndim == 2:
        # regression targets (RFAD's learned labels): the field protocol trains on their argmax, RFAD's own
        # evaluation (`evaluate --protocol rfad-finite`) on the targets, kept where a run of ours keeps them
        manifest["log"] = {"learned_labels": torch.as_tensor(raw.labels).float().tolist()}
        manifest["source"]["labels"] += " (the targets kept for --protocol rfad-finite)"
    return DistilledSet(images, hard, manifest, soft, raw.learned_lr, zca)


def export_released(distilled: DistilledSet, path: str | Path, layout: str = "dc", *, overwrite: bool = False,
                    allow_loss: bool = False) -> list[Path]:
    """Write ``distilled`` in one of the field's layouts (:data:`LAYOUTS`), for the field's own evaluation scripts;
    :func:`load_released` reads it back to the same images and labels. Returns the files written.

    Images are written as trained (normalized, ZCA-whitened if the run was), as the field's files hold them. Soft
    labels, RFAD's learned regression targets (the manifest's ``log.learned_labels``) and a learned lr go where the
    layout has a place for them (``Layout.holds``: ``mtt`` soft labels as DATM's label logits and the lr, ``npz``
    soft labels or targets — a target row's class is then its argmax, as in RFAD's files). What the layout cannot
    hold is refused by name unless ``allow_loss``, which writes the set without it (class indices in its place).
    An existing ``path`` is replaced only with ``overwrite`` (a folder only when it holds nothing but that layout's
    files)."""
    writer = LAYOUTS.get(layout)
    if layout not in writable_layouts():
        raise invalid("layout", layout, "a layout that can be written: " + ", ".join(writable_layouts()))
    path = Path(path)
    targets = (distilled.manifest.get("log") or {}).get("learned_labels")
    present = {"soft_labels": distilled.soft_labels is not None, "targets": targets is not None,
               "learned_lr": distilled.learned_lr is not None}
    labels: torch.Tensor = distilled.labels.detach().cpu().long()
    written = set()
    if present["soft_labels"] and "soft_labels" in writer.holds:
        labels, written = distilled.soft_labels.detach().cpu().float(), {"soft_labels"}
    elif present["targets"] and "targets" in writer.holds:
        labels, written = torch.as_tensor(targets, dtype=torch.float32), {"targets"}
    if present["learned_lr"] and "learned_lr" in writer.holds:
        written.add("learned_lr")
    lost = [k for k, here in present.items() if here and k not in written]
    if lost and not allow_loss:
        keep = [name for name, other in LAYOUTS.items() if all(k in other.holds for k in lost)]
        raise invalid("layout", layout, f"a layout that holds this set's {' and '.join(lost)} "
                      f"({', '.join(keep) or 'none does'}), or allow_loss=True to write the set without them")
    _check_export_path(path, writer, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = ReleasedTensors(distilled.images.detach().cpu().float().contiguous(), labels,
                              distilled.learned_lr if "learned_lr" in written else None)
    return writer.write(path, tensors)


def _check_export_path(path: Path, writer: Layout, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise ArtifactError(f"out={str(path)!r}: expected a path that does not exist yet (or overwrite=True)")
    if not writer.is_folder and path.is_dir():
        raise ArtifactError(f"out={str(path)!r}: expected a file path for the {writer.name} layout (it is a folder)")
    if writer.is_folder and path.exists():
        if not path.is_dir():
            raise ArtifactError(f"out={str(path)!r}: expected a folder for the {writer.name} layout (it is a file)")
        foreign = sorted(p.name for p in path.iterdir() if not writer.owns(p.name))
        if foreign:
            raise ArtifactError(f"out={str(path)!r}: holds {', '.join(foreign[:5])}: expected a folder of "
                                f"{writer.name} files only, to replace it")


def _normalizer(normalization: str | Mapping[str, Any], dataset: ImageDataset) -> Normalizer:
    expected = "'dataset', 'none' or {'mean': [...], 'std': [...]} with one value per channel"
    if normalization == "dataset":
        return dataset.normalizer()
    if normalization == "none":
        return Normalizer((0.0,) * dataset.channels, (1.0,) * dataset.channels)
    if isinstance(normalization, Mapping) and set(normalization) == {"mean", "std"}:
        try:
            mean = tuple(float(v) for v in normalization["mean"])
            std = tuple(float(v) for v in normalization["std"])
        except (TypeError, ValueError):
            raise invalid("normalization", normalization, expected) from None
        if len(mean) == len(std) == dataset.channels and all(s > 0 for s in std):
            return Normalizer(mean, std)
    raise invalid("normalization", normalization, expected)


def _images(value: Any, dataset: ImageDataset, source: Path) -> torch.Tensor:
    x = torch.as_tensor(value) if isinstance(value, (torch.Tensor, np.ndarray)) else None
    chw = (dataset.channels, *dataset.image_size)
    if x is None or x.ndim != 4 or not (x.is_floating_point()):
        shown = tuple(x.shape) if x is not None else type(value).__name__
        raise ArtifactError(f"images={shown} in {str(source)!r}: expected a float array of shape (N, {chw[0]}, "
                            f"{chw[1]}, {chw[2]}) for {dataset.name}")
    if tuple(x.shape[1:]) == (*dataset.image_size, dataset.channels) and tuple(x.shape[1:]) != chw:
        x = x.permute(0, 3, 1, 2)  # channels-last (KIP's neural-tangents layout)
    if tuple(x.shape[1:]) != chw:
        raise ArtifactError(f"images of shape {tuple(x.shape)} in {str(source)!r}: expected (N, {chw[0]}, {chw[1]}, "
                            f"{chw[2]}) (or channels-last) for {dataset.name}")
    if not torch.isfinite(x).all():
        raise ArtifactError(f"images in {str(source)!r}: expected finite values (found NaN or Inf)")
    return x.float().contiguous()


def _labels(value: Any, n: int, num_classes: int, mode: str, source: Path, logits: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    y = torch.as_tensor(value) if isinstance(value, (torch.Tensor, np.ndarray)) else None
    if y is None or len(y) != n or y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != num_classes):
        shown = tuple(y.shape) if y is not None else type(value).__name__
        raise ArtifactError(f"labels={shown} in {str(source)!r}: expected ({n},) class indices or ({n}, "
                            f"{num_classes}) targets for the {n} images")
    if y.ndim == 1:
        if y.is_floating_point() and not torch.equal(y, y.round()):
            raise ArtifactError(f"labels in {str(source)!r}: expected integer class indices (found fractions)")
        y = y.long()
        if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            raise ArtifactError(f"labels in [{int(y.min())}, {int(y.max())}] in {str(source)!r}: expected "
                                f"0..{num_classes - 1}")
        return y, None, "hard"
    y = y.float()
    if not torch.isfinite(y).all():
        raise ArtifactError(f"labels in {str(source)!r}: expected finite targets (found NaN or Inf)")
    distributions = bool((y >= 0).all()) and torch.allclose(y.sum(1), torch.ones(n), atol=1e-3)
    if mode == "soft" and not distributions:
        raise invalid("labels", mode, f"'hard' or 'auto' for {str(source)!r}: its (N, K) targets are not "
                      "distributions (rows nonnegative, summing to 1)")
    if mode == "logits" or (mode == "auto" and logits and not distributions):
        return y.argmax(1), torch.softmax(y, 1), "soft (the softmax of the file's (N, K) logits)"
    if mode == "hard" or not distributions:
        return y.argmax(1), None, "argmax of the file's (N, K) targets"
    return y.argmax(1), y, "soft (the file's (N, K) distributions)"


def _stats(x: torch.Tensor) -> dict[str, float]:
    return {"mean": float(x.mean()), "std": float(x.std())}


def _warn_if_far(stats: dict[str, dict[str, float]], path: Path) -> None:
    """Distilled images drift from the real data, but rarely to three times its spread or by several real standard
    deviations in level; either suggests the stated space is wrong (e.g. normalized images stated as [0, 1]
    pixels, a factor 1/std). A warning, not a refusal: the caller may know better."""
    img, real = stats["images"], stats["real"]
    ratio = img["std"] / max(real["std"], 1e-12)
    if not 1 / 3 <= ratio <= 3 or abs(img["mean"] - real["mean"]) > 3 * real["std"]:
        warnings.warn(f"{str(path)!r}: the images' pixel mean/std {img['mean']:.3g}/{img['std']:.3g} are far from "
                      f"the real train images' {real['mean']:.3g}/{real['std']:.3g} in the stated normalization/ZCA: "
                      "check normalization= and zca_eps=", stacklevel=3)


__all__ = ["LAYOUTS", "LABEL_MODES", "Layout", "ReleasedTensors", "detect_layout", "export_released", "list_layouts",
           "load_released", "writable_layouts"]
