"""``digits``: scikit-learn's 1,797 8x8 handwritten digits, always present."""
from __future__ import annotations

import numpy as np

from ...errors import invalid
from ..dataset import ImageDataset
from .base import SOURCES, Source, tensors


def _load_digits(test_fraction: float = 0.2, seed: int = 0) -> ImageDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise invalid("test_fraction", test_fraction, "a number in (0, 1)")
    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    y = bunch.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    (xtr, ytr), (xte, yte) = tensors(xtr, ytr), tensors(xte, yte)
    return ImageDataset("digits", xtr, ytr, xte, yte, [str(i) for i in range(10)], allow_flip=False,
                        source="scikit-learn load_digits", extra={"split_seed": seed, "test_fraction": test_fraction})


SOURCES.register("digits", Source(
    "digits", "scikit-learn's 1,797 8x8 handwritten digits (1 channel, 10 classes)",
    "bundled with scikit-learn: always available", _load_digits, takes_path=False))
