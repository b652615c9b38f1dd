"""``mtt``: MTT's / DATM's save folder, ``images_<it>.pt`` + ``labels_<it>.pt`` (``<it>`` an iteration or
``best``), and DATM's ``lr_<it>.pt`` (the learned evaluation lr), when present. Images as trained: ZCA-whitened
when the run used ZCA (MTT's ``images_zca_<it>.pt`` is the un-whitened copy for display). Labels may be DATM's
learned labels (N, K): logits, which DATM's evaluation trains on through a softmax (its soft cross-entropy),
so that is what they are read as."""
from __future__ import annotations

from pathlib import Path

import torch

from ..atomic import atomic_dir, write_with
from ..errors import ArtifactError, invalid
from .base import Layout, ReleasedTensors, register, torch_file


@register
class MTTLayout(Layout):
    name = "mtt"
    description = "MTT/DATM folder: images_<it>.pt + labels_<it>.pt (+ lr_<it>.pt); option iteration, default best"
    holds = ("soft_labels", "learned_lr")
    is_folder = True

    def matches(self, path: Path) -> bool:
        return (path.is_dir() and any(path.glob("images_*.pt"))) or \
            (path.is_file() and path.name.startswith("images_") and path.suffix == ".pt")

    def read(self, path: Path, iteration: int | str = "best") -> ReleasedTensors:
        if path.is_file():  # images_<it>.pt named directly: its iteration is in the name
            folder, iteration = path.parent, path.stem[len("images_"):]
        else:
            folder = path
        if not isinstance(iteration, (int, str)) or isinstance(iteration, bool) or str(iteration) == "":
            raise invalid("iteration", iteration, "an iteration number or 'best'")
        images_file = folder / f"images_{iteration}.pt"
        if not images_file.is_file():
            found = sorted(p.stem[len("images_"):] for p in folder.glob("images_*.pt"))
            raise invalid("iteration", iteration, f"one saved in {str(folder)!r}: {', '.join(found) or 'none'}")
        labels_file = folder / f"labels_{iteration}.pt"
        if not labels_file.is_file():
            raise ArtifactError(f"file={str(labels_file)!r}: expected the labels saved beside {images_file.name}")
        files = [images_file, labels_file]
        lr = None
        lr_file = folder / f"lr_{iteration}.pt"
        if lr_file.is_file():
            value = torch_file(lr_file)
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ArtifactError(f"file={str(lr_file)!r}: holds {type(value).__name__}: expected a number")
            lr = float(value)
            files.append(lr_file)
        return ReleasedTensors(torch_file(images_file), torch_file(labels_file), lr, files, label_logits=True)

    def write(self, path: Path, tensors: ReleasedTensors) -> list[Path]:
        """``images_best.pt``, ``labels_best.pt`` (class indices, or logits: DATM's learned labels) and, with a
        learned lr, ``lr_best.pt``: the files MTT's / DATM's evaluation loads, written as one folder at once."""
        labels = tensors.labels
        if labels.ndim == 2:  # distributions as logits whose softmax they are (DATM's learned labels)
            labels = labels.clamp_min(torch.finfo(labels.dtype).tiny).log()
        files = {"images_best.pt": tensors.images, "labels_best.pt": labels}
        if tensors.learned_lr is not None:
            files["lr_best.pt"] = torch.tensor(tensors.learned_lr)
        with atomic_dir(path) as tmp:
            for name, value in files.items():
                write_with(tmp / name, lambda f, v=value: torch.save(v, f))
        return [path / name for name in files]

    def owns(self, name: str) -> bool:
        return name.startswith(("images_", "labels_", "lr_")) and name.endswith(".pt")
