"""kmeans-coreset: weighted k-means on a sensitivity-sampled coreset. The coreset property, measured: the
coreset's weighted cost estimates the whole class's cost of its centers, and those centers cost the whole class
about what Lloyd on the whole class costs — closer as m grows; and the images it returns are typical ones."""
import numpy as np
import pytest

from coredistill.select import coreset_centers, create_initializer
from coredistill.select.kmeans import kmeans_cost, kmeans_pp, lloyd


@pytest.fixture(scope="module")
def mixture():
    rng = np.random.default_rng(0)
    means = rng.normal(scale=6.0, size=(5, 10))
    sizes = [800, 500, 300, 250, 150]  # unequal clusters: uniform subsets under-represent the small ones
    x = np.concatenate([m + rng.normal(size=(n, 10)) for m, n in zip(means, sizes)])
    return x, means


def _lloyd_full(x, k, seed):
    rng = np.random.default_rng(seed)
    return min((lloyd(x, x[kmeans_pp(x, k, rng)], 50) for _ in range(3)), key=lambda c: kmeans_cost(x, c))


def test_the_coreset_bound_measured(mixture):
    x, _ = mixture
    reference = kmeans_cost(x, _lloyd_full(x, 5, 0))
    ratio, estimate_error = {}, {}
    for m in (30, 100, 400):
        r, e = [], []
        for seed in range(6):
            centers, idx, w = coreset_centers(x, 5, m, np.random.default_rng(seed))
            full = kmeans_cost(x, centers)
            r.append(full / reference)
            e.append(abs(kmeans_cost(x[idx], centers, w) - full) / full)
        ratio[m], estimate_error[m] = np.median(r), np.median(e)
    assert ratio[400] < 1.05 and estimate_error[400] < 0.1  # cost_X(C_S) ≈ the whole-class Lloyd's
    assert ratio[400] <= ratio[30] and estimate_error[400] < estimate_error[30]  # the coreset sharpens with m


def test_it_returns_typical_images(mixture):
    x, means = mixture
    labels = np.zeros(len(x), dtype=int)
    def spread(name, **options):  # mean distance of the chosen images to their nearest true cluster mean
        dists = []
        for seed in range(5):
            sel = create_initializer(name, **options).select(x, labels, 5, np.random.default_rng(seed))
            dists.append(np.min(np.linalg.norm(x[sel.indices][:, None] - means[None], axis=2), axis=1).mean())
        return np.mean(dists)
    assert spread("kmeans-coreset", m=200) < 0.75 * spread("kmeans-sensitivity")
    sel = create_initializer("kmeans-coreset", m=200).select(x, labels, 5, np.random.default_rng(1))
    assert sel.weights.sum() == len(x)  # every image of the class is in one chosen image's cluster
