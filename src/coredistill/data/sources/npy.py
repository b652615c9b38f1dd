"""``npy``: a folder of ``.npy`` arrays, the train images memory-mapped (data sets larger than memory)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...errors import DataError
from ..dataset import ImageDataset
from .base import SOURCES, Source, as_image_array, channels_first, labels_array


def _load_npy(path: Path, name: str | None = None, allow_flip: bool = True) -> ImageDataset:
    """x_train.npy (uint8, (N, C, H, W) or (N, H, W[, C])) stays on disk; labels and the test split are read."""
    files = {k: path / f"{k}.npy" for k in ("x_train", "y_train", "x_test", "y_test")}
    missing = [f.name for f in files.values() if not f.is_file()]
    if missing:
        raise DataError(f"path={str(path)!r} lacks {', '.join(missing)}: expected x_train.npy, y_train.npy, "
                        "x_test.npy, y_test.npy")
    try:  # copy-on-write mapping: pages are read when touched, never written back
        x_train = np.load(files["x_train"], mmap_mode="c")
        x_test = np.load(files["x_test"])
        ys = {k: labels_array(np.load(files[k]), k, files[k]) for k in ("y_train", "y_test")}
    except (OSError, ValueError) as e:
        raise DataError(f"path={str(path)!r}: the .npy files cannot be read ({e})") from None
    if x_train.dtype != np.uint8:
        raise DataError(f"{files['x_train']}: dtype {x_train.dtype}: expected uint8 images (a memory-mapped split "
                        "is not scanned for its value range)")
    x_train = channels_first(x_train, "x_train", files["x_train"])
    x_test = as_image_array(channels_first(x_test, "x_test", files["x_test"]), "x_test", files["x_test"])
    names = [str(i) for i in range(int(max(ys["y_train"].max(), ys["y_test"].max())) + 1)]
    return ImageDataset(name or path.name, torch.from_numpy(x_train), torch.from_numpy(ys["y_train"]),
                        torch.from_numpy(np.ascontiguousarray(x_test)), torch.from_numpy(ys["y_test"]), names,
                        allow_flip=allow_flip, source=f"memory-mapped .npy files in {path}", memory_mapped=True)


SOURCES.register("npy", Source(
    "npy", "a folder of x_train.npy (uint8, memory-mapped: larger than memory is fine), y_train.npy, x_test.npy, "
    "y_test.npy", "pass --path to the folder", _load_npy, needs_path=True))
