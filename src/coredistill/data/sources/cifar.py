"""``cifar10`` / ``cifar100``: the python batches from a user's own copy."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ...errors import DataError
from ..dataset import ImageDataset
from ..paths import data_dir
from .base import SOURCES, Source, tensors

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class _ArraysOnly(pickle.Unpickler):
    """CIFAR's python batches are pickles of dicts of lists, bytes and numpy arrays. Unpickling runs whatever a
    file names, so only the numpy classes that rebuild an array are allowed: a file that names anything else is
    refused before it can run."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a CIFAR batch never holds")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"CIFAR file {str(path)!r} is missing: expected the python-batches layout")
    try:
        with path.open("rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
    except Exception as e:  # pickle raises many types on truncated files
        raise DataError(f"CIFAR file {str(path)!r} cannot be read ({type(e).__name__}: {e})") from None
    if not isinstance(batch, dict):
        raise DataError(f"CIFAR file {str(path)!r} holds a {type(batch).__name__}: expected a dict of arrays")
    return batch


def _cifar_arrays(batch: dict, label_key: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    data, labels = np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[label_key], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"CIFAR file {str(path)!r}: data {data.shape} and {len(labels)} labels: expected "
                        "(N, 3072) and N labels")
    return data.reshape(-1, 3, 32, 32), labels


def _load_cifar10(path: Path) -> ImageDataset:
    parts = [_cifar_arrays(_unpickle(path / f"data_batch_{i}"), b"labels", path / f"data_batch_{i}")
             for i in range(1, 6)]
    xtr, ytr = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    xte, yte = _cifar_arrays(_unpickle(path / "test_batch"), b"labels", path / "test_batch")
    (a, b), (c, d) = tensors(xtr, ytr), tensors(xte, yte)
    return ImageDataset("cifar10", a, b, c, d, list(CIFAR10_CLASSES), source=f"CIFAR-10 python batches in {path}")


def _load_cifar100(path: Path) -> ImageDataset:
    xtr, ytr = _cifar_arrays(_unpickle(path / "train"), b"fine_labels", path / "train")
    xte, yte = _cifar_arrays(_unpickle(path / "test"), b"fine_labels", path / "test")
    meta = path / "meta"
    names = ([n.decode() for n in _unpickle(meta)[b"fine_label_names"]] if meta.is_file()
             else [str(i) for i in range(100)])
    (a, b), (c, d) = tensors(xtr, ytr), tensors(xte, yte)
    return ImageDataset("cifar100", a, b, c, d, names, source=f"CIFAR-100 python batches in {path}")


SOURCES.register("cifar10", Source(
    "cifar10", "CIFAR-10, 50k/10k 32x32 colour images (your files)",
    "download cifar-10-python.tar.gz yourself, extract it, and pass --path to cifar-10-batches-py "
    "(or place it under $COREDISTILL_DATA)", _load_cifar10, lambda: data_dir() / "cifar-10-batches-py"))
SOURCES.register("cifar100", Source(
    "cifar100", "CIFAR-100, 50k/10k 32x32 colour images, 100 classes (your files)",
    "download cifar-100-python.tar.gz yourself, extract it, and pass --path to cifar-100-python "
    "(or place it under $COREDISTILL_DATA)", _load_cifar100, lambda: data_dir() / "cifar-100-python"))
