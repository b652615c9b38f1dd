import numpy as np
import pytest
from scipy import stats

from coredistill.errors import InvalidParameterError
from coredistill.sampling import create_sampler, list_samplers


def test_uniform_batches_are_distinct_members_of_the_class_and_uniform():
    labels = np.repeat([0, 1], [30, 12])
    s = create_sampler("uniform")
    s.setup(labels, 2)
    rng = np.random.default_rng(0)
    counts = np.zeros(30)
    for _ in range(3000):
        idx, w = s.sample(0, 8, rng)
        assert w is None and len(set(idx.tolist())) == 8 and (labels[idx] == 0).all()
        counts[idx] += 1
    assert stats.chisquare(counts).pvalue > 1e-3
    idx, _ = s.sample(1, 50, rng)  # batch larger than the class: the whole class, shuffled
    assert sorted(idx.tolist()) == list(range(30, 42))


def test_registry_and_bad_input():
    assert "uniform" in list_samplers()
    with pytest.raises(InvalidParameterError, match="sampler='importance'"):
        create_sampler("importance")
    with pytest.raises(InvalidParameterError, match="no example of class 2"):
        create_sampler("uniform").setup(np.array([0, 1, 1]), 3)
