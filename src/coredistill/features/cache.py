"""On-disk cache of computed features, keyed by (data set, feature space and options, seed)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..atomic import config_hash, write_with
from ..data.paths import data_dir
from ..distributed import ClassShard
from ..registry import accepts
from .spaces import FeatureSpace


def cache_key(dataset_id: dict[str, Any], space: FeatureSpace, seed: int) -> str:
    """Data set, space, options, seed and the package version (a new version may compute a space differently)."""
    return config_hash({"data": dataset_id, "space": space.name, "options": space.options(), "seed": seed,
                        "version": __version__}, 24)


def cached_features(space: FeatureSpace, images: torch.Tensor, *, dataset_id: dict[str, Any] | None, seed: int = 0,
                    device: torch.device | str = "cpu", progress: bool = True,
                    cache_dir: str | Path | None = None, shard: ClassShard | None = None,
                   labels: np.ndarray | None = None) -> np.ndarray:
    """``space.compute(images)``, read from / written to the cache when ``dataset_id`` identifies the images.

    With a ``shard`` of several processes the computation is split between them (every process receives all
    rows); they agree on a cache hit before computing, and only rank 0 writes the cache file. For a memory-mapped
    data set (``images`` read on access, not a tensor) the features are written into a memory-mapped file in the
    cache folder as they are computed and returned mapped, so they never sit on the heap either.
    """
    shard = shard or ClassShard()
    split = {"shard": shard} if shard.world > 1 and accepts(space.compute, "shard") else {}
    if labels is not None and accepts(space.compute, "labels"):  # a space trained on the data (a teacher's)
        split["labels"] = labels
        if dataset_id is not None and accepts(space.compute, "dataset_id"):  # ... and cached by the data's identity
            split["dataset_id"] = dataset_id
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "features"
    path = (folder / f"{space.name}-{cache_key(dataset_id, space, seed)}.npy"
            if dataset_id is not None and space.cacheable else None)
    if path is not None:
        feats = _read(path, len(images))
        if shard.all_true(feats is not None):
            return feats
    if isinstance(images, torch.Tensor) or not accepts(space.compute, "allocate"):
        feats = space.compute(images, seed=seed, device=device, progress=progress, **split)
        if path is not None and shard.rank == 0:
            _write(path, feats)
        return feats
    return _compute_to_disk(space, images, seed, device, progress, split, folder,
                            path if shard.rank == 0 else None)


def _compute_to_disk(space, images, seed, device, progress, split, folder: Path, path: Path | None) -> np.ndarray:
    """Features computed into a memory-mapped ``.npy``: renamed to ``path`` when given (the cache entry), else
    unlinked at once (the mapping keeps the pages until the array is released)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".features.", suffix=".npy", dir=folder)
    os.close(fd)

    def allocate(shape: tuple[int, int]) -> np.ndarray:
        return np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)

    try:
        feats = space.compute(images, seed=seed, device=device, progress=progress, allocate=allocate, **split)
        if not isinstance(feats, np.memmap):  # a space that kept its result in memory (random-nets, "mean")
            if path is not None:
                _write(path, feats)
            return feats
        feats.flush()
        if path is None:
            return feats
        os.replace(tmp, path)
        return np.load(path, mmap_mode="r")
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read(path: Path, rows: int) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        feats = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None  # unreadable cache entry: recompute and replace it
    if feats.ndim != 2 or feats.shape[0] != rows or feats.dtype != np.float32:
        return None  # another run's file, or a foreign one: recompute and replace it
    block = max(1, 2**24 // max(feats.shape[1], 1))
    if not all(np.isfinite(feats[i:i + block]).all() for i in range(0, rows, block)):
        return None
    return np.asarray(feats)


def _write(path: Path, feats: np.ndarray) -> None:
    write_with(path, lambda f: np.save(f, feats))
