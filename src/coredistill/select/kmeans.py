"""k-means building blocks with bounded memory: distances in row chunks, never an n x n (or big n x k) matrix."""
from __future__ import annotations

import numpy as np
from scipy import sparse

_CHUNK_ELEMENTS = 1 << 22  # elements of any temporary (rows x max(k, d)): 32 MB of float64 at most


def _rows(x: np.ndarray, width: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(width, x.shape[1], 1))


def sq_distances_to(x: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Squared distance of every row to one center, in row chunks (computed in x's dtype, returned float64)."""
    out = np.empty(len(x), dtype=np.float64)
    center = np.asarray(center, dtype=x.dtype)
    rows = _rows(x, 1)
    for s in range(0, len(x), rows):
        diff = x[s:s + rows] - center
        out[s:s + rows] = np.einsum("ij,ij->i", diff, diff)
    return out


def assign(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest center of each row and the squared distance to it (ties: the lowest center index)."""
    n, k = len(x), len(centers)
    labels = np.empty(n, dtype=np.int64)
    d2 = np.empty(n, dtype=np.float64)
    centers = np.asarray(centers, dtype=x.dtype)  # no float64 copy of a float32 chunk
    c_sq = np.einsum("ij,ij->i", centers, centers).astype(np.float64)
    rows = _rows(x, k)
    for s in range(0, n, rows):
        xs = x[s:s + rows]
        dist = (np.einsum("ij,ij->i", xs, xs).astype(np.float64)[:, None] + c_sq[None, :]
                - 2.0 * (xs @ centers.T).astype(np.float64))
        np.maximum(dist, 0.0, out=dist)  # the expansion can go slightly negative in floating point
        labels[s:s + rows] = dist.argmin(1)
        d2[s:s + rows] = dist[np.arange(len(xs)), labels[s:s + rows]]
    return labels, d2


def kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``k`` k-means++ seeds (D^2 sampling; with ``weights``, ∝ w·D^2 and the first ∝ w). Stops early
    when every point already is a seed's duplicate (all remaining D^2 = 0), so all-identical data gives one seed
    and no division by zero."""
    n = len(x)
    chosen = [int(rng.integers(n)) if weights is None else int(rng.choice(n, p=weights / weights.sum()))]
    d2 = sq_distances_to(x, x[chosen[0]])
    for _ in range(1, k):
        mass = d2 if weights is None else weights * d2
        total = mass.sum()
        if not total > 0:
            break
        nxt = int(rng.choice(n, p=mass / total))
        chosen.append(nxt)
        np.minimum(d2, sq_distances_to(x, x[nxt]), out=d2)
    return np.asarray(chosen, dtype=np.int64)


def lloyd(x: np.ndarray, centers: np.ndarray, iters: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``iters`` Lloyd steps from ``centers`` (weighted means with ``weights``); an emptied cluster keeps its
    previous center."""
    centers = centers.astype(np.float64, copy=True)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    for _ in range(iters):
        labels, _ = assign(x, centers)
        counts = np.bincount(labels, minlength=len(centers)) if weights is None else \
            np.bincount(labels, weights=w, minlength=len(centers))
        member = sparse.csr_matrix((w, (labels, np.arange(len(x)))), shape=(len(centers), len(x)))
        sums = np.asarray(member @ x, dtype=np.float64)  # cluster sums without an n x d temporary
        moved = counts > 0
        new = centers.copy()
        new[moved] = sums[moved] / counts[moved, None]
        if np.allclose(new, centers):
            return new
        centers = new
    return centers


def minibatch_kmeans(x: np.ndarray, centers: np.ndarray, iters: int, batch_size: int,
                     rng: np.random.Generator) -> np.ndarray:
    """``iters`` mini-batch k-means steps (Sculley 2010) from ``centers``: each step assigns ``batch_size`` random
    rows and moves every center to the running mean of all rows ever assigned to it (per-center rate 1/count).
    Reads only the sampled rows, so a memory-mapped ``x`` of any size costs ``iters × batch_size`` row reads."""
    centers = centers.astype(np.float64, copy=True)
    counts = np.zeros(len(centers))
    for _ in range(iters):
        idx = np.sort(rng.choice(len(x), size=min(batch_size, len(x)), replace=False))  # sorted: sequential reads
        xb = np.asarray(x[idx], dtype=np.float64)
        labels, _ = assign(xb, centers)
        n = np.bincount(labels, minlength=len(centers)).astype(np.float64)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, xb)
        moved = n > 0
        counts[moved] += n[moved]
        centers[moved] += (sums[moved] - n[moved, None] * centers[moved]) / counts[moved, None]
    return centers


def kmeans_cost(x: np.ndarray, centers: np.ndarray, weights: np.ndarray | None = None) -> float:
    """(Weighted) sum of squared distances to the nearest center."""
    _, d2 = assign(x, centers)
    return float(d2.sum() if weights is None else (weights * d2).sum())


def nearest_distinct(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """For each center, the index of the nearest row of ``x`` not taken by an earlier center."""
    chosen: list[int] = []
    taken = np.zeros(len(x), dtype=bool)
    for c in centers:
        d2 = sq_distances_to(x, c)
        d2[taken] = np.inf  # two centers with the same nearest point: the second takes the next nearest
        i = int(d2.argmin())
        chosen.append(i)
        taken[i] = True
    return np.asarray(chosen, dtype=np.int64)
