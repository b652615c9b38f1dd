"""``npz``: one ``.npz`` file with x_train, y_train, x_test, y_test (and optional class_names)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError
from ..dataset import ImageDataset
from .base import SOURCES, Source, as_image_array, channels_first, labels_array, tensors


def _load_npz(path: Path, name: str = "npz", allow_flip: bool = True) -> ImageDataset:
    try:  # read every member now: a member is unpacked (and an object array refused) on access
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as e:
        raise DataError(f"npz file {str(path)!r} cannot be read ({e})") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"npz file {str(path)!r} lacks {', '.join(missing)}: expected x_train, y_train, x_test, y_test")
    xs = {k: as_image_array(channels_first(arrays[k], k, path), k, path) for k in ("x_train", "x_test")}
    ys = {k: labels_array(arrays[k], k, path) for k in ("y_train", "y_test")}
    names = ([str(n) for n in arrays["class_names"]] if "class_names" in arrays
             else [str(i) for i in range(int(np.concatenate([ys["y_train"], ys["y_test"], [-1]]).max()) + 1)])
    (a, b), (c, d) = tensors(xs["x_train"], ys["y_train"]), tensors(xs["x_test"], ys["y_test"])
    return ImageDataset(name, a, b, c, d, names, allow_flip=allow_flip, source=f"npz file {path}")


SOURCES.register("npz", Source(
    "npz", "an .npz with x_train, y_train, x_test, y_test (uint8 or floats in [0, 1]; optional class_names)",
    "pass --path to your .npz file", _load_npz, needs_path=True))
