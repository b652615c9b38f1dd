import numpy as np
import pytest
from scipy import stats

from coredistill.errors import InvalidParameterError
from coredistill.select import create_initializer


def test_random_picks_ipc_distinct_points_per_class_with_uniform_weights():
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    sel = create_initializer("random").select(np.zeros((60, 3)), labels, 4, np.random.default_rng(0))
    assert np.bincount(labels[sel.indices]).tolist() == [4, 4, 4]
    assert len(set(sel.indices.tolist())) == 12
    assert sel.weights.tolist() == [2.5] * 4 + [5.0] * 4 + [7.5] * 4
    assert sel.scores is None


def test_random_inclusion_frequencies_are_uniform():
    """Chi-square on how often each point is chosen over many seeded draws (a biased sampler fails this)."""
    labels = np.zeros(20, dtype=int)
    counts = np.zeros(20)
    init = create_initializer("random")
    rng = np.random.default_rng(123)
    for _ in range(4000):
        counts[init.select(np.zeros((20, 1)), labels, 3, rng).indices] += 1
    assert stats.chisquare(counts).pvalue > 0.001


def test_same_rng_seed_same_selection():
    x, y = np.zeros((50, 2)), np.arange(50) % 5
    a = create_initializer("random").select(x, y, 3, np.random.default_rng(9)).indices
    b = create_initializer("random").select(x, y, 3, np.random.default_rng(9)).indices
    assert np.array_equal(a, b)


def test_bad_inputs():
    init = create_initializer("random")
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError, match=r"ipc=4: expected at most the smallest class size 3 \(class 1\)"):
        init.select(np.zeros((8, 2)), np.array([0, 0, 0, 0, 0, 1, 1, 1]), 4, rng)
    with pytest.raises(InvalidParameterError, match="ipc=0"):
        init.select(np.zeros((8, 2)), np.zeros(8, int), 0, rng)
    with pytest.raises(InvalidParameterError, match="labels="):
        init.select(np.zeros((8, 2)), np.zeros(7, int), 1, rng)
    with pytest.raises(InvalidParameterError, match="init='kmeans'"):
        create_initializer("kmeans")
    with pytest.raises(InvalidParameterError, match="options="):
        create_initializer("random", k=3)
