"""The in-memory data set every source returns, and its per-class views."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError, invalid


@dataclass
class ImageDataset:
    """A labelled image classification data set, train and test, channels-first.

    Images are ``uint8`` (0..255) or float in [0, 1], shape ``(N, C, H, W)``; labels are ``int64`` in
    ``[0, num_classes)``. ``mean``/``std`` are per-channel statistics of the train images in [0, 1] scale,
    used by :meth:`normalizer`.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: list[str]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    allow_flip: bool = True  # horizontal flips are label-preserving (False for digits and letters)
    source: str = ""
    extra: dict = field(default_factory=dict)
    # the train images are a view of a file on disk (np.memmap): statistics are computed in chunks and the
    # pipeline reads rows on access instead of normalizing the whole split in memory
    memory_mapped: bool = False

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 4:
                raise DataError(f"{self.name}: x_{split} has shape {tuple(x.shape)}: expected (N, C, H, W)")
            if y.ndim != 1 or len(y) != len(x):
                raise DataError(
                    f"{self.name}: y_{split} has {len(y)} labels for {len(x)} images: expected one label per image"
                )
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= len(self.class_names)):
                raise DataError(
                    f"{self.name}: y_{split} has labels in [{int(y.min())}, {int(y.max())}]: expected [0, "
                    f"{len(self.class_names) - 1}] for {len(self.class_names)} classes"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"{self.name}: train images {tuple(self.x_train.shape[1:])} and test images "
                f"{tuple(self.x_test.shape[1:])} differ in shape"
            )
        if not self.mean and self.memory_mapped:
            self.mean, self.std = _chunked_channel_stats(self.x_train)
        elif not self.mean:
            x = _as_unit_float(self.x_train)
            self.mean = tuple(float(v) for v in x.mean(dim=(0, 2, 3)))
            self.std = tuple(float(v) for v in x.std(dim=(0, 2, 3)).clamp_min(1e-6))

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.x_train.shape[2]), int(self.x_train.shape[3])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def class_counts(self, split: str = "train") -> np.ndarray:
        y = self.y_train if split == "train" else self.y_test
        return np.bincount(y.numpy(), minlength=self.num_classes)

    def class_indices(self, split: str = "train") -> list[np.ndarray]:
        """Indices of each class's examples, in data set order."""
        y = (self.y_train if split == "train" else self.y_test).numpy()
        order = np.argsort(y, kind="stable")
        bounds = np.cumsum(np.bincount(y, minlength=self.num_classes))[:-1]
        return np.split(order, bounds)

    def check_ipc(self, ipc: int) -> int:
        """Validate images-per-class against the smallest class of the train split."""
        if isinstance(ipc, bool) or not isinstance(ipc, (int, np.integer)) or ipc <= 0:
            raise invalid("ipc", ipc, "a positive integer")
        counts = self.class_counts()
        smallest = int(counts.min())
        if ipc > smallest:
            raise invalid(
                "ipc", int(ipc), f"at most the smallest class size {smallest} (class {int(counts.argmin())})"
            )
        return int(ipc)

    def normalizer(self):
        from .transforms import Normalizer

        return Normalizer(self.mean, self.std)

    def train_float(self) -> torch.Tensor:
        return _as_unit_float(self.x_train)

    def test_float(self) -> torch.Tensor:
        return _as_unit_float(self.x_test)

    def describe(self) -> dict:
        """A JSON-able summary, stored in artifacts' manifests."""
        return {
            "name": self.name, "source": self.source, "channels": self.channels,
            "image_size": list(self.image_size), "num_classes": self.num_classes,
            "n_train": len(self.y_train), "n_test": len(self.y_test), "class_names": list(self.class_names),
            "mean": list(self.mean), "std": list(self.std), "allow_flip": self.allow_flip, **self.extra,
        }


def _chunked_channel_stats(x: torch.Tensor, rows: int = 65536) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (unbiased) std in [0, 1] scale, reading ``rows`` images at a time (float64 sums)."""
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    squares = torch.zeros(x.shape[1], dtype=torch.float64)
    for s in range(0, len(x), rows):
        chunk = _as_unit_float(x[s:s + rows]).double()
        total += chunk.sum(dim=(0, 2, 3))
        squares += (chunk * chunk).sum(dim=(0, 2, 3))
    n = len(x) * x.shape[2] * x.shape[3]
    mean = total / n
    var = (squares - n * mean * mean) / max(n - 1, 1)
    return tuple(float(v) for v in mean), tuple(float(v) for v in var.clamp_min(0).sqrt().clamp_min(1e-6))


def _as_unit_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
