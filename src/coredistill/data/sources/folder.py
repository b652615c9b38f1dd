"""``folder``: a user's image folder, one sub-folder per class (or train/ and test/ holding them)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, invalid
from ..dataset import ImageDataset
from .base import SOURCES, Source, tensors


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _open(f: Path):
    from PIL import Image

    try:
        return Image.open(f)
    except OSError as e:
        raise DataError(f"image {str(f)!r} cannot be read ({e})") from None


def _read_class_folders(root: Path, classes: list[str], size: tuple[int, int] | None, mode: str):
    from PIL import Image

    xs, ys = [], []
    for label, cls in enumerate(classes):
        folder = root / cls
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES) if folder.is_dir() else []
        for f in files:
            try:
                with _open(f) as im:
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
    if not path.is_dir():
        raise DataError(f"path={str(path)!r}: expected a folder with one sub-folder per class (it is a file)")
    split_dirs = (path / "train").is_dir() and (path / "test").is_dir()
    train_root = path / "train" if split_dirs else path
    # hidden folders (.ipynb_checkpoints, .git) are not classes
    classes = sorted(p.name for p in train_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"path={str(path)!r}: expected one sub-folder per class (or train/ and test/ holding them)")
    mode = "L" if grayscale else "RGB"
    if grayscale is None:  # opening reads only the header: cheap beside the decoding that follows
        files = [f for c in classes for f in sorted((train_root / c).iterdir()) if f.suffix.lower() in _IMAGE_SUFFIXES]
        if not files:
            raise DataError(f"path={str(path)!r}: the class folders hold no images ({', '.join(sorted(_IMAGE_SUFFIXES))})")
        modes = set()
        for f in files:
            with _open(f) as im:
                modes.add("L" if im.mode in ("L", "1", "I;16", "I") else "RGB")
        if len(modes) > 1:
            raise DataError(f"path={str(path)!r} holds grayscale and colour images: expected one kind, or pass "
                            "grayscale=True or grayscale=False to convert them all")
        mode = modes.pop()
    x, y = _read_class_folders(train_root, classes, size, mode)
    if split_dirs:
        xte, yte = _read_class_folders(path / "test", classes, size, mode)
    else:
        from sklearn.model_selection import train_test_split

        counts = np.bincount(y, minlength=len(classes))
        if counts.min() < 2:
            raise DataError(f"path={str(path)!r}: class {classes[int(counts.argmin())]!r} has {int(counts.min())} "
                            "image(s): expected at least 2 per class to split off a test set (or train/ and test/ "
                            "folders)")
        x, xte, y, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    x, xte = x.transpose(0, 3, 1, 2), xte.transpose(0, 3, 1, 2)
    (a, b), (c, d) = tensors(x, y), tensors(xte, yte)
    return ImageDataset(path.name or "folder", a, b, c, d, classes, allow_flip=allow_flip,
                        source=f"image folder {path}")


SOURCES.register("folder", Source(
    "folder", "a folder with one sub-folder of images per class (optionally train/ and test/ above them)",
    "pass --path to your folder", _load_folder, needs_path=True))
