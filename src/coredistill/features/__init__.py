"""Selection feature spaces, one registry (DESIGN §1d).

>>> import torch
>>> create_features("pixels").compute(torch.zeros(3, 1, 4, 4)).shape
(3, 16)
"""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .cache import cache_key, cached_features
from .spaces import Encoder, FeatureSpace, KernelFeatures, KernelRandomFeatures, Pixels, RandomNetEmbeddings

FEATURES: Registry[type[FeatureSpace]] = Registry("features")
FEATURES.register("pixels", Pixels)
FEATURES.register("random-nets", RandomNetEmbeddings)
FEATURES.register("kernel-rf", KernelRandomFeatures)
FEATURES.register("encoder", Encoder)
FEATURES.register("kernel", KernelFeatures)


def list_features() -> list[str]:
    return FEATURES.names()


def create_features(name: str, **options: Any) -> FeatureSpace:
    return FEATURES.create(name, **options)


__all__ = ["FEATURES", "Encoder", "FeatureSpace", "KernelFeatures", "KernelRandomFeatures", "Pixels", "RandomNetEmbeddings",
           "cache_key", "cached_features", "create_features", "list_features"]
