"""``npz``: RFAD's / KIP's ``.npz`` (``images`` and ``labels`` arrays; RFAD's labels are its learned regression
targets (N, K), images channels-first; KIP's may be channels-last — both are accepted)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_with
from ..errors import invalid
from .base import Layout, ReleasedTensors, npz_file, register


@register
class NpzLayout(Layout):
    name = "npz"
    description = "RFAD/KIP .npz with images and labels arrays (options images_key, labels_key)"
    holds = ("soft_labels", "targets")

    def matches(self, path: Path) -> bool:
        return path.is_file() and path.suffix == ".npz"

    def read(self, path: Path, images_key: str = "images", labels_key: str = "labels") -> ReleasedTensors:
        arrays = npz_file(path)
        for option, key in (("images_key", images_key), ("labels_key", labels_key)):
            if key not in arrays:
                raise invalid(option, key, f"an array in {str(path)!r}: {', '.join(sorted(arrays)) or 'none'}")
        return ReleasedTensors(arrays[images_key], arrays[labels_key], files=[path])

    def write(self, path: Path, tensors: ReleasedTensors) -> list[Path]:
        arrays = {"images": np.asarray(tensors.images), "labels": np.asarray(tensors.labels)}
        write_with(path, lambda f: np.savez(f, **arrays))
        return [path]
