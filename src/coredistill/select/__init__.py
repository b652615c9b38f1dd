"""Initializers: choose the real images a distilled set starts from, per class.

Every entry is a class whose constructor stores options and whose ``select(features, labels, ipc, rng)``
returns a :class:`Selection` ``(indices, weights, scores)``.

>>> import numpy as np
>>> sel = create_initializer("random").select(np.zeros((6, 2)), np.array([0, 0, 0, 1, 1, 1]), 2,
...                                           np.random.default_rng(0))
>>> len(sel.indices), sel.weights.tolist()
(4, [1.5, 1.5, 1.5, 1.5])
"""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .baselines import Herding, KCenterGreedy, KMeansCentroid
from .leverage import KernelLeverage, exact_leverage, ridge_leverage
from .sampling import sample_proportional
from .selection import Initializer, Selection
from .sensitivity import KMeansSensitivity, kmeans_sensitivity, sensitivity_from_centers
from .uniform import RandomInit

INITIALIZERS: Registry[type[Initializer]] = Registry("init")
INITIALIZERS.register("random", RandomInit)
INITIALIZERS.register("kmeans-sensitivity", KMeansSensitivity)
INITIALIZERS.register("kernel-leverage", KernelLeverage)
INITIALIZERS.register("herding", Herding)
INITIALIZERS.register("k-center", KCenterGreedy)
INITIALIZERS.register("kmeans-centroid", KMeansCentroid)


def list_initializers() -> list[str]:
    return INITIALIZERS.names()


def create_initializer(name: str, **options: Any) -> Initializer:
    return INITIALIZERS.create(name, **options)


__all__ = ["INITIALIZERS", "Initializer", "Selection", "create_initializer", "exact_leverage", "kmeans_sensitivity",
           "list_initializers", "ridge_leverage", "sample_proportional", "sensitivity_from_centers"]
