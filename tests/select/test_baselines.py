import numpy as np

from coredistill.select import create_initializer


def test_herding_first_pick_is_nearest_to_mean_and_matches_mean_greedily():
    x = np.array([[0.0], [1.0], [5.0], [9.0], [10.0]])  # mean 5
    sel = create_initializer("herding").select(x, np.zeros(5, int), 3, np.random.default_rng(0))
    # t=1: |5 - x| -> 5; t=2: |2*5 - 5 - x| -> 1 or 9 (tie, lowest index: 1); t=3: |3*5 - 6 - x| -> 9
    assert sel.indices.tolist() == [2, 1, 3]
    assert np.allclose(sel.weights, 5 / 3)


def test_k_center_picks_farthest_points():
    x = np.array([[0.0], [0.1], [0.2], [5.0], [10.0]])
    sel = create_initializer("k-center").select(x, np.zeros(5, int), 3, np.random.default_rng(0))
    assert set(sel.indices.tolist()) >= {4} and len(set(sel.indices.tolist())) == 3
    assert sel.weights.sum() == 5  # Voronoi cell sizes cover the class


def test_kmeans_centroid_finds_well_separated_clusters():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [20, 0], [0, 20]], float)
    x = np.vstack([rng.normal(c, 0.5, (30, 2)) for c in centers])
    sel = create_initializer("kmeans-centroid").select(x, np.zeros(90, int), 3, rng)
    chosen = x[sel.indices]
    assert sorted(np.argmin(((chosen[:, None] - centers[None]) ** 2).sum(-1), 1).tolist()) == [0, 1, 2]
    assert sorted(sel.weights.tolist()) == [30, 30, 30]


def test_baselines_with_duplicates_return_distinct_indices():
    x = np.zeros((10, 3))
    for name in ("herding", "k-center", "kmeans-centroid"):
        sel = create_initializer(name).select(x, np.zeros(10, int), 4, np.random.default_rng(0))
        assert len(set(sel.indices.tolist())) == 4, name
