"""The in-memory data set every source returns, and its per-class views."""
from __future__ import annotations

import math
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
        if len(self.class_names) < 2:
            raise DataError(f"{self.name}: {len(self.class_names)} class: expected at least 2 classes to distill")
        if not len(self.y_test):
            raise DataError(f"{self.name}: the test split is empty: expected test images to evaluate on")
        missing = sorted(set(range(len(self.class_names))) - set(self.y_train.unique().tolist()))
        if missing:
            raise DataError(f"{self.name}: class {missing[0]} ({self.class_names[missing[0]]!r}) has no train image: "
                            "expected every class in the train split")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"{self.name}: train images {tuple(self.x_train.shape[1:])} and test images "
                f"{tuple(self.x_test.shape[1:])} differ in shape"
            )
        if not self.mean:
            self.mean, self.std = _channel_stats(self.x_train)

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

    def train_float(self, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Train images as floats in [0, 1]; only ``rows`` of them when given (converted after indexing)."""
        return _as_unit_float(self.x_train if rows is None else self.x_train[rows])

    def test_float(self) -> torch.Tensor:
        return _as_unit_float(self.x_test)

    def validation_split(self, per_class: int, seed: int = 0) -> "ImageDataset":
        """This data set with ``per_class`` train images of every class held out as its evaluation split.

        For tuning: settings chosen by accuracy on the held-out images never see the test split. The held-out
        images are drawn per class from ``seed`` (a local generator); the rest stay in train, in their order,
        and the normalization statistics are recomputed from them alone.

        >>> from coredistill.data import load_dataset
        >>> val = load_dataset("digits").validation_split(10)
        >>> len(val.y_test), val.extra["validation"]
        (100, {'per_class': 10, 'seed': 0})
        """
        if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or per_class <= 0:
            raise invalid("validation", per_class, "a positive number of train images per class to hold out")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise invalid("validation_seed", seed, "a non-negative integer")
        counts = self.class_counts()
        if per_class >= counts.min():
            raise invalid("validation", int(per_class), f"fewer than the smallest class size {int(counts.min())} "
                          f"(class {int(counts.argmin())}), so that every class keeps train images")
        if self.memory_mapped:
            raise invalid("validation", int(per_class), "a data set held in memory (a memory-mapped train split "
                          "would be copied); hold out the images when writing the .npy files instead")
        rng = np.random.default_rng(seed)
        held = np.sort(np.concatenate([rng.choice(idx, size=int(per_class), replace=False)
                                       for idx in self.class_indices()]))
        keep = np.setdiff1d(np.arange(len(self.y_train)), held)
        held_t, keep_t = torch.from_numpy(held), torch.from_numpy(keep)
        return ImageDataset(self.name, self.x_train[keep_t], self.y_train[keep_t], self.x_train[held_t],
                            self.y_train[held_t], list(self.class_names), allow_flip=self.allow_flip,
                            source=self.source, extra={**self.extra, "validation": {"per_class": int(per_class),
                                                                                    "seed": int(seed)}})

    def without_train(self, drop: np.ndarray, reason: dict) -> "ImageDataset":
        """This data set with the train images at ``drop`` removed; the normalization (and the test split) stay
        the full set's, so the pruned set is seen in the same space. ``reason`` is recorded in ``extra``."""
        keep = torch.from_numpy(np.setdiff1d(np.arange(len(self.y_train)), np.asarray(drop, dtype=np.int64)))
        return ImageDataset(self.name, self.x_train[keep], self.y_train[keep], self.x_test, self.y_test,
                            list(self.class_names), mean=self.mean, std=self.std, allow_flip=self.allow_flip,
                            source=self.source, extra={**self.extra, "pruned": reason})

    def describe(self) -> dict:
        """A JSON-able summary, stored in artifacts' manifests."""
        return {
            "name": self.name, "source": self.source, "channels": self.channels,
            "image_size": list(self.image_size), "num_classes": self.num_classes,
            "n_train": len(self.y_train), "n_test": len(self.y_test), "class_names": list(self.class_names),
            "mean": list(self.mean), "std": list(self.std), "allow_flip": self.allow_flip, **self.extra,
        }


def recorded_identity(recorded: dict, current: dict) -> dict:
    """A data identity recorded earlier (an expert buffer's, a checkpoint's) in the form the current one is compared
    with: without the read path older records kept (``source``; the content fingerprint identifies the images), and
    with per-channel statistics that agree with the current ones to float32 precision taken as the current ones
    (older records summed in float32, whose last digits depended on the thread count)."""
    out = {k: v for k, v in recorded.items() if k != "source"}
    for key in ("mean", "std"):
        a, b = out.get(key), current.get(key)
        if (isinstance(a, list) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(math.isclose(u, v, rel_tol=1e-5, abs_tol=1e-7) for u, v in zip(a, b))):
            out[key] = b
    return out


def _channel_stats(x: torch.Tensor, rows: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (unbiased) std in [0, 1] scale, reading ``rows`` images at a time (memory-mapped
    splits too). They are part of the data's identity (caches, buffers and checkpoints match by it), so they must
    not depend on the thread count, as a parallel float32 reduction does: 8-bit images are summed exactly in
    integers; float images in float64."""
    n = len(x) * x.shape[2] * x.shape[3]
    if not torch.is_floating_point(x):
        total, squares = [0] * x.shape[1], [0] * x.shape[1]
        for s in range(0, len(x), rows):
            chunk = torch.as_tensor(x[s:s + rows]).to(torch.int64)
            total = [t + int(v) for t, v in zip(total, chunk.sum(dim=(0, 2, 3)))]
            squares = [q + int(v) for q, v in zip(squares, (chunk * chunk).sum(dim=(0, 2, 3)))]
        mean = [t / (255 * n) for t in total]
        var = [(q * n - t * t) / (n * max(n - 1, 1) * 255 ** 2) for t, q in zip(total, squares)]
        return tuple(mean), tuple(max(math.sqrt(max(v, 0.0)), 1e-6) for v in var)
    sums = torch.zeros(x.shape[1], dtype=torch.float64)
    sums_sq = torch.zeros(x.shape[1], dtype=torch.float64)
    for s in range(0, len(x), rows):
        chunk = _as_unit_float(x[s:s + rows]).double()
        sums += chunk.sum(dim=(0, 2, 3))
        sums_sq += (chunk * chunk).sum(dim=(0, 2, 3))
    means = sums / n
    variances = (sums_sq - n * means * means) / max(n - 1, 1)
    return tuple(float(v) for v in means), tuple(float(v) for v in variances.clamp_min(0).sqrt().clamp_min(1e-6))


def _as_unit_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
