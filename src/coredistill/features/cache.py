"""On-disk cache of computed features, keyed by (data set, feature space and options, seed)."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.paths import data_dir
from .spaces import FeatureSpace


def cache_key(dataset_id: dict[str, Any], space: FeatureSpace, seed: int) -> str:
    blob = json.dumps({"data": dataset_id, "space": space.name, "options": space.options(), "seed": seed},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cached_features(space: FeatureSpace, images: torch.Tensor, *, dataset_id: dict[str, Any] | None, seed: int = 0,
                    device: torch.device | str = "cpu", progress: bool = True,
                    cache_dir: str | Path | None = None) -> np.ndarray:
    """``space.compute(images)``, read from / written to the cache when ``dataset_id`` identifies the images."""
    if dataset_id is None or not space.cacheable:
        return space.compute(images, seed=seed, device=device, progress=progress)
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "features"
    path = folder / f"{space.name}-{cache_key(dataset_id, space, seed)}.npy"
    if path.is_file():
        try:
            feats = np.load(path, mmap_mode="r")
            if feats.shape[0] == len(images):
                return np.asarray(feats)
        except (OSError, ValueError):
            pass  # unreadable cache entry: recompute and replace it
    feats = space.compute(images, seed=seed, device=device, progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, feats)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return feats
