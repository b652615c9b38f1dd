"""The result type and the checked per-class driver every initializer shares (DeepCore-style)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..distributed import ClassShard
from ..draws import MODES, sample_proportional
from ..errors import invalid
from ..params import Params, one_of
from ..registry import Registry, accepts


@dataclass
class Selection:
    """Chosen train-split ``indices`` with importance ``weights`` (same order), and optional ``scores``.

    ``scores`` (when an initializer computes them) hold one value per train example: the importance it
    assigned, e.g. a sensitivity. ``weights`` make a weighted sample an estimate of class sums.
    """

    indices: np.ndarray
    weights: np.ndarray
    scores: np.ndarray | None = None
    candidates: dict | None = None  # how the candidates were restricted, if they were (e.g. teacher-correct)

    def to_manifest(self) -> dict:
        out = {"indices": self.indices.tolist(), "weights": [float(w) for w in self.weights]}
        if self.candidates is not None:
            out["candidates"] = self.candidates
        return out

    def lifted(self, rows: np.ndarray, n: int, how: dict) -> "Selection":
        """This selection, made among train rows ``rows`` only, in the indices of the whole train split of ``n``
        rows (scores of the rows not offered are NaN)."""
        scores = None
        if self.scores is not None:
            scores = np.full(n, np.nan)
            scores[rows] = self.scores
        return Selection(rows[self.indices], self.weights, scores, how)


def check_features(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features, labels = np.asarray(features), np.asarray(labels)
    if features.ndim != 2 or len(features) == 0:
        raise invalid("features", features.shape, "a non-empty 2-D array (n_examples, n_features)")
    if labels.shape != (len(features),):
        raise invalid("labels", labels.shape, f"({len(features)},): one label per feature row")
    rows = max(1, 2**24 // max(features.shape[1], 1))  # in blocks: features may be a memory-mapped file
    if not all(np.isfinite(features[s:s + rows]).all() for s in range(0, len(features), rows)):
        raise invalid("features", "array with NaN/Inf", "finite values")
    return features, labels


class Initializer(Params):
    """Base class: validates input once, then selects ``ipc`` points per class.

    Subclasses store options in ``__init__`` (nothing else) and implement :meth:`select_class`; score-based
    ones also implement :meth:`score` (one importance per example, computed before sampling and exposed so a
    user can inspect or plot it). ``stochastic`` is False for deterministic baselines (herding).
    """

    stochastic = True
    uses_features = True
    default_features = "pixels"

    def score(self, features: np.ndarray, labels: np.ndarray, ipc: int, rng: np.random.Generator,
              shard: ClassShard | None = None) -> np.ndarray | None:
        """Importance of every example for a selection of ``ipc`` per class (None: no scores). With a ``shard``
        of several processes, a score may split its work between them; every process returns all scores."""
        return None

    def select(self, features: np.ndarray, labels: np.ndarray, ipc: int, rng: np.random.Generator,
               shard: ClassShard | None = None) -> Selection:
        """``ipc`` rows of every class. Several processes (``shard``) share the scoring where the initializer
        can split it and return the same selection as one process."""
        features, labels = check_features(features, labels)
        classes, counts = np.unique(labels, return_counts=True)
        if isinstance(ipc, bool) or not isinstance(ipc, (int, np.integer)) or ipc <= 0:
            raise invalid("ipc", ipc, "a positive integer")
        if ipc > counts.min():
            raise invalid("ipc", int(ipc), f"at most the smallest class size {int(counts.min())} "
                          f"(class {int(classes[counts.argmin()])})")
        self.check(counts)
        split = {"shard": shard} if shard is not None and shard.world > 1 and accepts(self.score, "shard") else {}
        scores = self.score(features, labels, int(ipc), rng, **split)
        indices, weights = [], []
        for c in classes:
            members = np.flatnonzero(labels == c)
            local, w = self.select_class(features[members], int(ipc), rng,
                                         None if scores is None else scores[members])
            indices.append(members[local])
            weights.append(w)
        return Selection(np.concatenate(indices), np.concatenate(weights).astype(float), scores)

    def check(self, class_counts: np.ndarray) -> None:
        """Validate options before any work: the declared ``constraints``, then what depends on the data (e.g.
        k <= class size)."""
        self.check_params()

    def select_class(self, x: np.ndarray, m: int, rng: np.random.Generator, scores: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Local indices of ``m`` rows of ``x`` and their weights."""
        raise NotImplementedError


INITIALIZERS: Registry[type[Initializer]] = Registry("init")  # entries register where they are defined


class ScoreSampler(Initializer):
    """An initializer that scores every example, then draws each class ∝ its scores (``mode``: distinct | iid)
    with weights 1/(m q). Subclasses implement :meth:`score` and validate their own options in ``check``."""

    constraints = {"mode": one_of(*MODES)}
    mode: str = "distinct"

    def select_class(self, x, m, rng, scores):
        return sample_proportional(scores, m, rng, self.mode)
