"""Weighted draws, one module for every place that draws indices in proportion to weights.

* :func:`sample_proportional` — the initializers' draw: ``m`` indices ∝ scores with importance weights
  ``1 / (m q)``, i.i.d. (the coreset of the theory) or distinct (an initialization).
* :func:`pps_sample` — the batch samplers' draw: distinct units with exact inclusion probabilities π (randomized
  systematic sampling, Madow 1949; Hartley & Rao 1962): shuffle the units, lay out π_i = b·p_i end to end on
  [0, b), and take the units under u, u+1, ..., u+b−1 for one uniform u. Each unit is drawn with probability
  exactly π_i and never twice, so the Horvitz–Thompson estimate (1/n)·Σ_{i∈S} f_i / π_i of a mean is unbiased.
  Units whose b·p_i would exceed 1 are taken with certainty (π_i = 1) and the remaining slots are spread over the
  others, repeatedly, until no π_i exceeds 1.
"""
from __future__ import annotations

import numpy as np

from .errors import invalid

MODES = ("distinct", "iid")


def probabilities(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or len(scores) == 0 or not np.isfinite(scores).all() or (scores < 0).any():
        raise invalid("scores", f"array of shape {scores.shape}", "a non-empty 1-D array of finite scores >= 0")
    total = scores.sum()
    if not total > 0:
        return np.full(len(scores), 1.0 / len(scores))
    return scores / total


def sample_proportional(scores: np.ndarray, m: int, rng: np.random.Generator, mode: str = "distinct"
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``m`` indices with probability ``q = scores / sum(scores)``; weights ``1 / (m q)``.

    ``mode="iid"``: i.i.d. draws with replacement: the sensitivity-sampling coreset of the theory, whose weighted
    sums are unbiased. ``mode="distinct"``: ``m`` distinct points by successive sampling ∝ q (Efraimidis–Spirakis
    keys), for an initialization; its weights are the same ``1/(m q)`` (DESIGN §1a), exact in the limit m q << 1.
    """
    if mode not in MODES:
        raise invalid("mode", mode, f"one of {', '.join(MODES)}")
    q = probabilities(scores)
    n = len(q)
    if mode == "iid":
        idx = rng.choice(n, size=m, replace=True, p=q)
    else:
        if m > n:
            raise invalid("m", m, f"at most {n} distinct points")
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(n) / q  # smallest keys = successive sampling without replacement
        idx = np.argpartition(keys, m - 1)[:m] if m < n else np.arange(n)
        idx = idx[np.argsort(keys[idx], kind="stable")]
    return idx.astype(np.int64), 1.0 / (m * q[idx])


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
