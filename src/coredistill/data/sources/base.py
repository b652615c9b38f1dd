"""The data-source registry, ``load_dataset``, and the array conversions every loader shares."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ...errors import DataError, invalid
from ...registry import Registry
from ..dataset import ImageDataset


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
    accepted = _options_of(source.loader, resolved is not None)
    unknown = sorted(set(options) - set(accepted)) if accepted is not None else []
    if unknown:
        raise invalid("data option", unknown[0], f"an option of {name}: " + (", ".join(accepted) or "it takes none"))
    try:
        dataset = source.loader(resolved, **options) if resolved is not None else source.loader(**options)
    except (IsADirectoryError, NotADirectoryError) as e:
        raise DataError(f"path={str(resolved)!r}: {name} expects {source.how_to_get} ({e.strerror})") from None
    return dataset if validation is None else dataset.validation_split(validation, validation_seed)


def _options_of(loader: Callable, takes_path: bool) -> list[str] | None:
    """The keyword options ``loader`` takes (``None``: any)."""
    import inspect

    params = list(inspect.signature(loader).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params[1 if takes_path else 0:]]


def labels_array(y: np.ndarray, key: str, path: Path) -> np.ndarray:
    """Class labels as int64; float labels must be whole numbers (never truncated)."""
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise DataError(f"{str(path)!r}: {key} holds non-integer labels (e.g. {y[~(y == np.round(y))][:1]}): "
                        "expected class indices 0..C-1")
    if y.dtype.kind not in "iuf" and len(y):
        raise DataError(f"{str(path)!r}: {key} has dtype {y.dtype}: expected integer class indices")
    return y.astype(np.int64)


def tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    if x.ndim == 3:
        x = x[:, None]
    x = np.ascontiguousarray(x) if x.flags.writeable else np.array(x)
    return torch.from_numpy(x), torch.from_numpy(np.array(y, dtype=np.int64))


def channels_first(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        return x.transpose(0, 3, 1, 2)
    if x.ndim == 4:
        return x
    raise DataError(f"npz file {str(path)!r}: {key} has shape {x.shape}: expected (N, H, W), (N, H, W, C) or (N, C, H, W)")


def as_image_array(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    x = x.astype(np.float32)
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise DataError(f"npz file {str(path)!r}: {key} holds floats in [{x.min()}, {x.max()}]: expected uint8 or "
                        "finite floats in [0, 1]")
    return x
