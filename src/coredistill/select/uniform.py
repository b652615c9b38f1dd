"""``random``: uniformly chosen real images, the field's default initialization and every table's baseline."""
from __future__ import annotations

import numpy as np

from .selection import INITIALIZERS, Initializer


@INITIALIZERS.decorator("random")
class RandomInit(Initializer):
    """``m`` distinct points per class uniformly at random; weight ``n_c / m`` (unbiased for class sums)."""

    uses_features = False

    def select_class(self, x, m, rng, scores):
        n = len(x)
        return rng.choice(n, size=m, replace=False), np.full(m, n / m)
