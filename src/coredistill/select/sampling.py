"""Sampling points proportionally to scores, with importance weights 1/(m q)."""
from __future__ import annotations

import numpy as np

from ..errors import invalid

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
