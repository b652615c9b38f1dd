"""Selection feature spaces, one registry (DESIGN §1d).

>>> import torch
>>> create_features("pixels").compute(torch.zeros(3, 1, 4, 4)).shape
(3, 16)
"""
from __future__ import annotations

from typing import Any

from ..registry import import_submodules
from .cache import cache_key, cached_features
from .spaces import FEATURES, Encoder, FeatureSpace, KernelFeatures, KernelRandomFeatures, Pixels, RandomNetEmbeddings

import_submodules(__name__, __path__)  # a feature space registers where it is defined: a new one is one new file


def list_features() -> list[str]:
    return FEATURES.names()


def create_features(name: str, **options: Any) -> FeatureSpace:
    return FEATURES.create(name, **options)


__all__ = ["FEATURES", "Encoder", "FeatureSpace", "KernelFeatures", "KernelRandomFeatures", "Pixels", "RandomNetEmbeddings",
           "cache_key", "cached_features", "create_features", "list_features"]
