"""gamma="auto": the exponent a method validated per budget, interpolated in log IPC, constant beyond."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coredistill.config import RunConfig
from coredistill.errors import InvalidParameterError
from coredistill.methods import METHODS
from coredistill.sampling.alignment import aligned_gamma

ANCHORS = {1: -1.0, 10: 1.0, 50: 0.5}


def test_the_measured_budgets_get_their_own_exponent_and_beyond_them_the_nearest():
    for ipc, gamma in ANCHORS.items():
        assert aligned_gamma(ANCHORS, ipc) == gamma
    assert aligned_gamma({10: 1.0, 1: -1.0}, 1) == -1.0  # order of the mapping does not matter
    assert aligned_gamma(ANCHORS, 500) == 0.5
    assert aligned_gamma({10: 0.25}, 1) == aligned_gamma({10: 0.25}, 100) == 0.25


@given(st.integers(1, 9), st.integers(1, 9))
def test_between_two_budgets_the_exponent_is_linear_in_log_ipc(a, b):
    lo, hi = sorted((a, b))
    g_lo, g_hi = aligned_gamma(ANCHORS, lo), aligned_gamma(ANCHORS, hi)
    assert g_lo <= g_hi  # monotone where the anchors rise
    assert aligned_gamma(ANCHORS, hi) == pytest.approx(-1.0 + 2.0 * math.log(hi) / math.log(10))


def test_a_run_resolves_auto_with_its_methods_rule_and_hashes_the_value(monkeypatch):
    monkeypatch.setattr(METHODS.get("dm"), "aligned_gamma", {1: -1.0, 10: 1.0})
    auto = RunConfig.resolve("digits", 10, method="dm", preset="tiny", sampler="relative-loss",
                             sampler_options={"gamma": "auto", "predictor": "teacher"})
    given_ = RunConfig.resolve("digits", 10, method="dm", preset="tiny", sampler="relative-loss",
                               sampler_options={"gamma": 1.0, "predictor": "teacher"})
    assert auto.sampler_options["gamma"] == 1.0 and auto.hash == given_.hash  # the same run
    assert auto.to_dict()["auto"] == ["gamma"] and "auto" not in given_.to_dict()  # but the manifest says why
    small = RunConfig.resolve("digits", 1, method="dm", preset="tiny", sampler="relative-loss",
                              sampler_options={"gamma": "auto"})
    assert small.sampler_options["gamma"] == -1.0


def test_experts_are_trained_with_the_resolved_exponent(monkeypatch):
    monkeypatch.setattr(METHODS.get("mtt"), "aligned_gamma", {1: -1.0})
    cfg = RunConfig.resolve("digits", 1, method="mtt", preset="tiny", sampler="relative-loss",
                            sampler_options={"gamma": "auto"})
    assert cfg.experts.sampler_options["gamma"] == -1.0


def test_a_method_without_a_validated_rule_refuses_auto(monkeypatch):
    monkeypatch.setattr(METHODS.get("dc"), "aligned_gamma", {})
    with pytest.raises(InvalidParameterError, match=r"gamma='auto'.*'dc' has no exponent validated"):
        RunConfig.resolve("digits", 1, method="dc", preset="tiny", sampler="relative-loss",
                          sampler_options={"gamma": "auto"})


def test_the_sampler_itself_explains_that_auto_belongs_to_a_run():
    from coredistill.sampling import create_sampler
    with pytest.raises(InvalidParameterError, match="resolved by a run's configuration"):
        create_sampler("relative-loss", gamma="auto").check()
