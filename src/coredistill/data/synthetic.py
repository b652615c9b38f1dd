"""Synthetic data sets written to disk, for scale tests: a folder the ``npy`` source memory-maps.

>>> import tempfile, pathlib
>>> from coredistill.data import load_dataset
>>> folder = write_npy_dataset(pathlib.Path(tempfile.mkdtemp()) / "d", 1000)
>>> ds = load_dataset("npy", path=folder)
>>> ds.memory_mapped, tuple(ds.x_train.shape), ds.num_classes
(True, (1000, 1, 8, 8), 10)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_npy_dataset(folder: str | Path, n_train: int, n_test: int = 200, size: int = 8, classes: int = 10,
                      seed: int = 0, chunk: int = 100_000) -> Path:
    """``n_train`` uint8 images of ``size``×``size`` (one noisy template per class, labels round-robin) written
    chunk by chunk — the split is never whole in memory — plus a small test split."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, (classes, 1, size, size))

    def images(labels: np.ndarray) -> np.ndarray:
        noise = rng.normal(0, 40, (len(labels), 1, size, size))
        return np.clip(templates[labels] + noise, 0, 255).astype(np.uint8)

    x = np.lib.format.open_memmap(folder / "x_train.npy", mode="w+", dtype=np.uint8, shape=(n_train, 1, size, size))
    y = np.arange(n_train) % classes
    for s in range(0, n_train, chunk):
        x[s:s + chunk] = images(y[s:s + chunk])
    x.flush()
    del x
    np.save(folder / "y_train.npy", y)
    yt = np.arange(n_test) % classes
    np.save(folder / "x_test.npy", images(yt))
    np.save(folder / "y_test.npy", yt)
    return folder
