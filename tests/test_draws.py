import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from coredistill.draws import inclusion_probabilities, pps_sample


def test_inclusion_frequencies_equal_pi_and_draws_are_distinct():
    rng = np.random.default_rng(0)
    p = rng.random(40) ** 3
    p /= p.sum()
    pi = inclusion_probabilities(p, 6)
    assert np.isclose(pi.sum(), 6) and (pi <= 1).all()
    trials, counts = 20000, np.zeros(40)
    for _ in range(trials):
        idx, drawn_pi = pps_sample(p, 6, rng)
        assert len(idx) == 6 and len(set(idx.tolist())) == 6
        assert np.allclose(drawn_pi, pi[idx])
        counts[idx] += 1
    # each unit is a Bernoulli(pi_i) per trial: standardized deviations must look standard normal
    z = (counts - trials * pi) / np.sqrt(trials * pi * (1 - pi))
    assert np.abs(z).max() < 4.5
    assert stats.chisquare(counts, trials * pi).pvalue > 1e-3
    assert stats.chisquare(counts).pvalue < 1e-12  # and it is far from uniform


def test_certainty_units_are_always_drawn():
    p = np.array([0.7, 0.1, 0.1, 0.05, 0.05])
    pi = inclusion_probabilities(p, 3)
    assert pi[0] == 1.0 and np.isclose(pi.sum(), 3) and (pi <= 1).all()
    rng = np.random.default_rng(1)
    for _ in range(200):
        idx, _ = pps_sample(p, 3, rng)
        assert 0 in idx and len(set(idx.tolist())) == 3


def test_zero_probability_units_are_never_drawn_and_small_support_returns_all():
    p = np.array([0.0, 0.5, 0.0, 0.5])
    rng = np.random.default_rng(2)
    idx, pi = pps_sample(p, 3, rng)
    assert sorted(idx.tolist()) == [1, 3] and (pi == 1).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 10.0), min_size=2, max_size=30), st.integers(1, 40), st.integers(0, 2**31))
def test_any_weights_give_valid_draws(weights, size, seed):
    p = np.asarray(weights)
    if p.sum() == 0:
        p = np.ones_like(p)
    pi = inclusion_probabilities(p, size)
    assert np.isclose(pi.sum(), min(size, int((p > 0).sum()))) and (pi <= 1 + 1e-12).all()
    idx, _ = pps_sample(p, size, np.random.default_rng(seed))
    assert len(idx) == min(size, int((p > 0).sum())) and len(set(idx.tolist())) == len(idx)
    assert (p[idx] > 0).all()
