"""``kmeans-coreset``: typical real images that keep the coreset guarantee.

Sensitivity sampling favours points far from the centers — atypical ones, which make poor initial images at small
IPC. This initializer keeps the sampling's guarantee and returns typical images instead. Per class:

1. a weighted coreset S of ``m`` points drawn i.i.d. ∝ the k-means sensitivity (weights 1/(m q));
2. weighted k-means with k = ipc on S (k-means++ seeding, then weighted Lloyd);
3. for each center, the nearest real image of the class (distinct), weighted by its cluster's size.

Why the centers are good for the whole class: with probability 1 − δ, S is an ε-coreset for k-means
(Bachem, Lucic & Krause 2018) once m = O(ε⁻² · total sensitivity · (d k log k + log 1/δ)), i.e. for every set C of
k centers, |cost_S(C) − cost_X(C)| ≤ ε · cost_X(C). Then the centers C_S that minimize cost_S are near-optimal on
the whole class X: cost_X(C_S) ≤ (1 + ε)/(1 − ε) · cost_X(C*) for the optimal C* (up to the k-means solver's own
approximation on S). The test suite measures both sides: the coreset's estimate of the class cost, and the cost
on the whole class of the coreset's centers against Lloyd run on the whole class.
"""
from __future__ import annotations

import numpy as np

from ..draws import sample_proportional
from ..params import NON_NEGATIVE_INT, POSITIVE_INT, optional
from .baselines import cluster_weights, fill_at_random
from .kmeans import kmeans_pp, lloyd, nearest_distinct
from .selection import INITIALIZERS, Initializer
from .sensitivity import kmeans_sensitivity


def coreset_centers(x: np.ndarray, k: int, m: int, rng: np.random.Generator, lloyd_iters: int = 20,
                    bicriteria_k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted k-means centers of a sensitivity-sampled coreset of ``x``; returns (centers, coreset row indices,
    coreset weights)."""
    x = x.astype(np.float64)
    scores = kmeans_sensitivity(x, bicriteria_k or k, rng)
    idx, weights = sample_proportional(scores, m, rng, "iid")
    core = x[idx]
    seeds = kmeans_pp(core, k, rng, weights=weights)
    return lloyd(core, core[seeds], lloyd_iters, weights=weights), idx, weights


@INITIALIZERS.decorator("kmeans-coreset")
class KMeansCoreset(Initializer):
    """The real image nearest each of ``ipc`` weighted k-means centers fitted on a sensitivity-sampled coreset of
    ``m`` points per class (see the module doc for the bound); weights: cluster sizes in the class.
    ``bicriteria_k``: centers of the sensitivity bound (default: ipc)."""

    constraints = {"m": POSITIVE_INT, "lloyd_iters": NON_NEGATIVE_INT, "bicriteria_k": optional(POSITIVE_INT)}

    def __init__(self, m: int = 200, lloyd_iters: int = 20, bicriteria_k: int | None = None) -> None:
        self.m = m
        self.lloyd_iters = lloyd_iters
        self.bicriteria_k = bicriteria_k

    def select_class(self, x, m, rng, scores):
        x = x.astype(np.float64)
        centers, _, _ = coreset_centers(x, m, self.m, rng, self.lloyd_iters, self.bicriteria_k)
        chosen = fill_at_random(nearest_distinct(x, centers), len(x), m, rng)
        return chosen, cluster_weights(x, chosen)
