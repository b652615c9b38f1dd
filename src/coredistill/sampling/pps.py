"""Sampling proportional to size without replacement, with exact inclusion probabilities.

Randomized systematic sampling (Madow 1949; Hartley & Rao 1962): shuffle the units, lay out their inclusion
probabilities π_i = b·p_i end to end on [0, b), and take the units under u, u+1, ..., u+b−1 for one uniform u.
Each unit is drawn with probability exactly π_i and never twice, so the Horvitz–Thompson estimate
(1/n)·Σ_{i∈S} f_i / π_i of a mean is unbiased. Units whose b·p_i would exceed 1 are taken with certainty
(π_i = 1) and the remaining slots are spread over the others, repeatedly, until no π_i exceeds 1.
"""
from __future__ import annotations

import numpy as np


def inclusion_probabilities(p: np.ndarray, size: int) -> np.ndarray:
    """π_i for a sample of ``size`` distinct units drawn ∝ ``p`` (p ≥ 0); Σ π = min(size, #{p > 0})."""
    p = np.asarray(p, dtype=np.float64)
    positive = p > 0
    if size >= positive.sum():
        return positive.astype(np.float64)
    certain = np.zeros(len(p), dtype=bool)
    while True:
        rest = size - certain.sum()
        q = np.where(certain, 0.0, p)
        pi = rest * q / q.sum()
        over = (pi >= 1.0) & ~certain
        if not over.any():
            return np.where(certain, 1.0, pi)
        certain |= over


def pps_sample(p: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``size`` distinct units drawn with inclusion probability ∝ ``p``, and their π.

    >>> idx, pi = pps_sample(np.array([0.1, 0.2, 0.3, 0.4]), 2, np.random.default_rng(0))
    >>> len(set(idx.tolist())), round(float(pi.sum() + 0), 6) <= 2
    (2, True)
    """
    pi = inclusion_probabilities(p, size)
    certain = np.flatnonzero(pi >= 1.0)
    rest = np.flatnonzero((pi > 0) & (pi < 1.0))
    slots = min(size, int((pi > 0).sum())) - len(certain)
    if slots <= 0 or len(rest) == 0:
        chosen = certain
    else:
        order = rng.permutation(rest)
        cum = np.cumsum(pi[order])
        cum[-1] = max(cum[-1], float(slots))  # float round-off must not push the last point past the end
        points = rng.random() + np.arange(slots)
        picked = order[np.minimum(np.searchsorted(cum, points, side="right"), len(order) - 1)]
        chosen = np.concatenate([certain, picked])
    chosen = rng.permutation(chosen)
    return chosen, pi[chosen]
