"""Selection baselines the field compares with: herding, k-center greedy, nearest-to-k-means-centroid."""
from __future__ import annotations

import numpy as np

from ..params import NON_NEGATIVE_INT
from .kmeans import assign, kmeans_pp, lloyd, nearest_distinct, sq_distances_to
from .selection import INITIALIZERS, Initializer


def cluster_weights(x: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Weight of each chosen point: how many class points have it as nearest chosen point (a coreset weight)."""
    labels, _ = assign(x, x[chosen])
    return np.bincount(labels, minlength=len(chosen)).astype(float)


@INITIALIZERS.decorator("herding")
class Herding(Initializer):
    """Greedy mean matching (Welling 2009; Chen et al. 2010): each step adds the point that brings the running
    mean of the selection closest to the class mean. Deterministic; weights n/m."""

    stochastic = False

    def select_class(self, x, m, rng, scores):
        x = x.astype(np.float64)
        mu = x.mean(0)
        total = np.zeros_like(mu)
        available = np.ones(len(x), dtype=bool)
        chosen = []
        for t in range(1, m + 1):
            gap = sq_distances_to(x, t * mu - total)  # ||mu - (total + x)/t||² ∝ ||t mu - total - x||²
            gap[~available] = np.inf
            i = int(gap.argmin())
            chosen.append(i)
            available[i] = False
            total += x[i]
        return np.asarray(chosen, dtype=np.int64), np.full(m, len(x) / m)


@INITIALIZERS.decorator("k-center")
class KCenterGreedy(Initializer):
    """Greedy farthest-point k-center (Sener & Savarese 2018): a random first point, then repeatedly the point
    farthest from the chosen ones. Weights: the size of each chosen point's Voronoi cell."""

    def select_class(self, x, m, rng, scores):
        x = x.astype(np.float64)
        chosen = [int(rng.integers(len(x)))]
        d2 = sq_distances_to(x, x[chosen[0]])
        for _ in range(1, m):
            d2[chosen] = -1.0  # never pick a chosen point again, even when all distances are 0 (duplicates)
            nxt = int(d2.argmax())
            chosen.append(nxt)
            np.minimum(d2, sq_distances_to(x, x[nxt]), out=d2)
        chosen_arr = np.asarray(chosen, dtype=np.int64)
        return chosen_arr, cluster_weights(x, chosen_arr)


@INITIALIZERS.decorator("kmeans-centroid")
class KMeansCentroid(Initializer):
    """The real point nearest to each of ``m`` k-means centers (k-means++ then ``lloyd_iters`` Lloyd steps);
    weights: cluster sizes."""

    constraints = {"lloyd_iters": NON_NEGATIVE_INT}

    def __init__(self, lloyd_iters: int = 50) -> None:
        self.lloyd_iters = lloyd_iters

    def select_class(self, x, m, rng, scores):
        x = x.astype(np.float64)
        centers = lloyd(x, x[kmeans_pp(x, m, rng)], self.lloyd_iters)
        chosen = fill_at_random(nearest_distinct(x, centers), len(x), m, rng)
        return chosen, cluster_weights(x, chosen)


def fill_at_random(chosen: np.ndarray, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """``chosen`` completed to ``m`` distinct rows at random (fewer distinct centers than m: duplicate points)."""
    out = list(chosen)
    taken = np.zeros(n, dtype=bool)
    taken[chosen] = True
    while len(out) < m:
        i = int(rng.choice(np.flatnonzero(~taken)))
        out.append(i)
        taken[i] = True
    return np.asarray(out, dtype=np.int64)
