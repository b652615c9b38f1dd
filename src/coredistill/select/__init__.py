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

from ..registry import import_submodules
from .selection import INITIALIZERS, Initializer, Selection
from .uniform import RandomInit  # noqa: F401  (imported in the listing's order)
from .sensitivity import KMeansSensitivity, kmeans_sensitivity, sensitivity_from_centers  # noqa: F401
from .leverage import KernelLeverage, exact_leverage, ridge_leverage  # noqa: F401
from .baselines import Herding, KCenterGreedy, KMeansCentroid  # noqa: F401
from .representative import KMeansCoreset, coreset_centers  # noqa: F401
from ..draws import sample_proportional

import_submodules(__name__, __path__)  # an initializer registers where it is defined: a new one is one new file


def list_initializers() -> list[str]:
    return INITIALIZERS.names()


def create_initializer(name: str, **options: Any) -> Initializer:
    return INITIALIZERS.create(name, **options)


__all__ = ["INITIALIZERS", "Initializer", "Selection", "coreset_centers", "create_initializer", "exact_leverage",
           "kmeans_sensitivity", "list_initializers", "ridge_leverage", "sample_proportional", "sensitivity_from_centers"]
