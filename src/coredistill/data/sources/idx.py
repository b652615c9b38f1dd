"""``fashion-mnist`` (Debian's package, or any copy of its idx files) and ``idx`` (any MNIST-style folder)."""
from __future__ import annotations

from pathlib import Path

from ..dataset import ImageDataset
from ..idx import load_idx_folder
from ..paths import data_dir
from .base import SOURCES, Source, tensors

FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


def _fashion_default() -> Path:
    local = data_dir() / "fashion-mnist"
    return FASHION_SYSTEM_DIR if FASHION_SYSTEM_DIR.is_dir() or not local.is_dir() else local


def _idx_dataset(name: str, path: Path, class_names: list[str] | None, allow_flip: bool) -> ImageDataset:
    xtr, ytr, xte, yte = load_idx_folder(path)
    (x_train, y_train), (x_test, y_test) = tensors(xtr, ytr), tensors(xte, yte)
    if class_names is None:
        class_names = [str(i) for i in range(int(max(ytr.max(), yte.max())) + 1)]
    return ImageDataset(name, x_train, y_train, x_test, y_test, class_names, allow_flip=allow_flip,
                        source=f"idx files in {path}")


SOURCES.register("fashion-mnist", Source(
    "fashion-mnist", "Fashion-MNIST, 60k/10k 28x28 grayscale clothing images",
    "run `coredistill fetch fashion-mnist` (Debian package dataset-fashion-mnist) or pass --path to a folder "
    "with the four idx files",
    lambda path: _idx_dataset("fashion-mnist", path, FASHION_CLASSES, allow_flip=True), _fashion_default))

SOURCES.register("idx", Source(
    "idx", "any MNIST-style folder of idx files (train/t10k images and labels, optionally .gz)",
    "pass --path to your folder", lambda path, allow_flip=False: _idx_dataset("idx", path, None, allow_flip),
    needs_path=True))
