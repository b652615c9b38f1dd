"""``kmeans-sensitivity``: the provable initialization of DESIGN §1a (Bachem, Lucic & Krause 2017).

Per class: a bicriteria solution B (k-means++ seeds, optional Lloyd steps), then the sensitivity upper bound

    s(x) = α d(x,B)²/c̄ + 2α Σ_{x'∈B_b} d(x',B)² / (|B_b| c̄) + 4 n / |B_b|,   α = 16 (ln k + 2),

with c̄ the mean of d(·,B)² over the class and B_b the cluster of x. Points are drawn ∝ s with weights 1/(m q).
With m = O(ε⁻² t (d log t + log 1/δ)) i.i.d. draws (t = Σ s / n = O(k log k)) the weighted sample is an
ε-coreset for k-means: its weighted cost is within (1 ± ε) of the class's cost for every set of k centers.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import invalid
from ..params import NON_NEGATIVE_INT, POSITIVE_INT, optional
from .kmeans import assign, kmeans_pp, lloyd, minibatch_kmeans
from .selection import INITIALIZERS, ScoreSampler


def sensitivity_from_centers(x: np.ndarray, centers: np.ndarray, k: int | None = None) -> np.ndarray:
    """The Bachem–Lucic–Krause bound for every row of ``x`` given the bicriteria ``centers``.

    ``k`` enters α (defaults to ``len(centers)``). When every point sits on a center (c̄ = 0: duplicates) the
    cost terms vanish and ``s = 4 n / |B_b|``.

    >>> x = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> s = sensitivity_from_centers(x, np.array([[1.0], [10.0]]))
    >>> np.round(s, 3).tolist()
    [206.422, 120.241, 206.422, 16.0]
    """
    k = len(centers) if k is None else k
    n = len(x)
    labels, d2 = assign(x, centers)
    alpha = 16.0 * (math.log(k) + 2.0)
    c_bar = d2.mean()
    sizes = np.bincount(labels, minlength=len(centers)).astype(np.float64)
    size_of_own = sizes[labels]
    s = 4.0 * n / size_of_own
    if c_bar > 0:
        cluster_cost = np.bincount(labels, weights=d2, minlength=len(centers))
        s += alpha * d2 / c_bar + 2.0 * alpha * cluster_cost[labels] / (size_of_own * c_bar)
    return s


def kmeans_sensitivity(x: np.ndarray, k: int, rng: np.random.Generator, lloyd_iters: int = 0,
                       minibatch_iters: int = 0, batch_size: int = 1024) -> np.ndarray:
    """Sensitivity scores of one class: k-means++ bicriteria (+ ``lloyd_iters`` Lloyd steps over all rows, or
    ``minibatch_iters`` mini-batch steps of ``batch_size`` rows — the choice at millions of points), then the
    bound, computed exactly against the resulting centers over every row."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise invalid("k", k, "a positive integer")
    if k > len(x):
        raise invalid("k", int(k), f"at most the class size {len(x)}")
    centers = x[kmeans_pp(x, int(k), rng)]
    if lloyd_iters:
        centers = lloyd(x, centers, lloyd_iters)
    if minibatch_iters:
        centers = minibatch_kmeans(x, centers, minibatch_iters, batch_size, rng)
    return sensitivity_from_centers(x, centers, k=int(k))


@INITIALIZERS.decorator("kmeans-sensitivity")
class KMeansSensitivity(ScoreSampler):
    """Sample each class ∝ its k-means sensitivity (``k=None``: k = ipc).

    ``mode="distinct"`` gives ipc distinct real images (an initialization); ``mode="iid"`` the theoretical coreset
    (repeats possible). ``lloyd_iters`` (full passes) or ``minibatch_iters`` (steps of ``batch_size`` rows)
    refine the bicriteria centers before scoring.
    """

    def __init__(self, k: int | None = None, lloyd_iters: int = 0, mode: str = "distinct", minibatch_iters: int = 0,
                 batch_size: int = 1024) -> None:
        self.k = k
        self.lloyd_iters = lloyd_iters
        self.mode = mode
        self.minibatch_iters = minibatch_iters
        self.batch_size = batch_size

    constraints = {"k": optional(POSITIVE_INT).describe("a positive integer or None (= ipc)"),
                   "lloyd_iters": NON_NEGATIVE_INT, "minibatch_iters": NON_NEGATIVE_INT, "batch_size": POSITIVE_INT}

    def check(self, class_counts: np.ndarray) -> None:
        super().check(class_counts)
        if self.k is not None and self.k > class_counts.min():
            raise invalid("k", int(self.k), f"at most the smallest class size {int(class_counts.min())}")

    def score(self, features, labels, ipc, rng, shard=None):
        # whole on every process: k-means++ seeding draws from the one stream that runs across the classes
        k = self.k if self.k is not None else ipc  # resolved at call time
        scores = np.empty(len(labels))
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            scores[members] = kmeans_sensitivity(features[members], k, rng, self.lloyd_iters, self.minibatch_iters,
                                                 self.batch_size)
        return scores
