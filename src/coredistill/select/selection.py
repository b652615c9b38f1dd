"""The result type and the checked per-class driver every initializer shares (DeepCore-style)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import invalid


@dataclass
class Selection:
    """Chosen train-split ``indices`` with importance ``weights`` (same order), and optional ``scores``.

    ``scores`` (when an initializer computes them) hold one value per train example: the importance it
    assigned, e.g. a sensitivity. ``weights`` make a weighted sample an unbiased estimate of class sums.
    """

    indices: np.ndarray
    weights: np.ndarray
    scores: np.ndarray | None = None

    def to_manifest(self) -> dict:
        return {"indices": self.indices.tolist(), "weights": [float(w) for w in self.weights]}


class Initializer:
    """Base class: validates input once, then selects ``ipc`` points per class with :meth:`select_class`.

    Subclasses store their options in ``__init__`` (nothing else) and implement ``select_class``.
    """

    def select(self, features: np.ndarray, labels: np.ndarray, ipc: int, rng: np.random.Generator) -> Selection:
        features = np.asarray(features)
        labels = np.asarray(labels)
        if features.ndim != 2:
            raise invalid("features", features.shape, "a 2-D array (n_examples, n_features)")
        if labels.shape != (len(features),):
            raise invalid("labels", labels.shape, f"({len(features)},): one label per feature row")
        if not np.isfinite(features).all():
            raise invalid("features", "array with NaN/Inf", "finite values")
        classes, counts = np.unique(labels, return_counts=True)
        if isinstance(ipc, bool) or not isinstance(ipc, (int, np.integer)) or ipc <= 0:
            raise invalid("ipc", ipc, "a positive integer")
        if ipc > counts.min():
            raise invalid("ipc", int(ipc), f"at most the smallest class size {int(counts.min())} "
                          f"(class {int(classes[counts.argmin()])})")
        indices, weights = [], []
        scores = np.full(len(labels), np.nan)
        for c in classes:
            members = np.flatnonzero(labels == c)
            local, w, s = self.select_class(features[members], int(ipc), rng)
            indices.append(members[local])
            weights.append(w)
            if s is not None:
                scores[members] = s
        return Selection(np.concatenate(indices), np.concatenate(weights).astype(float),
                         None if np.isnan(scores).all() else scores)

    def select_class(self, x: np.ndarray, m: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return local indices of ``m`` rows of ``x``, their weights and (optionally) per-row scores."""
        raise NotImplementedError

    def options(self) -> dict:
        return dict(vars(self))
