"""sampler="aligned" and gamma="auto": the batches a method validated per budget — the nearest measured IPC's
options, the exponent interpolated in log IPC between measured IPCs that agree on the rest, constant beyond."""
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coredistill.bench.grid import Grid
from coredistill.variants import Variant
from coredistill.config import RunConfig
from coredistill.errors import InvalidParameterError
from coredistill.methods import METHODS
from coredistill.sampling import create_sampler
from coredistill.sampling.alignment import aligned_gamma, aligned_options

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


TEACHER = {"predictor": "teacher", "drop_misclassified": True, "drop_hardest": 0.1}
RULE = {1: {**TEACHER, "gamma": -1.0}, 10: {**TEACHER, "gamma": 1.0}, 50: {"gamma": 1.0}}


def test_the_nearest_budgets_options_and_an_exponent_only_between_alike_budgets():
    assert aligned_options(RULE, 1) == RULE[1] and aligned_options(RULE, 10) == RULE[10]
    assert aligned_options(RULE, 3) == {**TEACHER, "gamma": round(-1.0 + 2.0 * math.log(3) / math.log(10), 3)}
    # 25 is nearer 50 in log IPC, whose options (the proxy) share no other measured budget: γ is its own
    assert aligned_options(RULE, 25) == {"gamma": 1.0} and aligned_options(RULE, 20) == {**TEACHER, "gamma": 1.0}
    assert aligned_options({1: {"gamma": 0.0}, 9: {"gamma": 1.0}}, 3) == {"gamma": 0.5}  # alike: halfway in log
    tie = {1: {"predictor": "teacher", "gamma": 0.0}, 9: {"gamma": 1.0}}
    assert aligned_options(tie, 3) == tie[1]  # equally near both: the smaller IPC's


def test_a_budget_where_uniform_batches_won_stays_uniform(monkeypatch):
    rule = {1: None, 10: {**TEACHER, "gamma": 1.0}}
    assert aligned_options(rule, 2) is None and aligned_options(rule, 5)["gamma"] == 1.0  # nothing to interpolate
    monkeypatch.setattr(METHODS.get("dm"), "aligned_sampling", rule)
    one = RunConfig.resolve("digits", 1, method="dm", preset="cpu", sampler="aligned")
    assert one.sampler == "uniform" and one.hash == RunConfig.resolve("digits", 1, method="dm", preset="cpu").hash
    gamma = RunConfig.resolve("digits", 1, method="dm", preset="cpu", sampler="relative-loss",
                              sampler_options={"gamma": "auto"})
    assert gamma.sampler_options["gamma"] == 0.0
    # options on top of a rule that chose uniform batches have nowhere to go: said by name, not a uniform
    # sampler's complaint about options nobody gave it
    with pytest.raises(InvalidParameterError, match=r"sampler_options=\{'gamma': -1.0\}.*'dm' at ipc=1.*uniform"):
        RunConfig.resolve("digits", 1, method="dm", preset="cpu", sampler="aligned", sampler_options={"gamma": -1.0})


def test_a_run_resolves_the_methods_rule_and_hashes_the_values(monkeypatch):
    monkeypatch.setattr(METHODS.get("dm"), "aligned_sampling", RULE)
    kw = dict(method="dm", preset="cpu")
    aligned = RunConfig.resolve("digits", 10, sampler="aligned", **kw)
    # γ = 1 is the sampler's default: the rule's run is the one asked for by name without it (one hash, so a
    # grid reuses the coreset paper's own loss-proportional cells where the rule chose them)
    explicit = RunConfig.resolve("digits", 10, sampler="relative-loss", sampler_options=TEACHER, **kw)
    assert aligned.sampler == "relative-loss" and aligned.hash == explicit.hash  # the same run, preset's pool too
    assert "gamma" not in aligned.sampler_options
    assert RunConfig.resolve("digits", 50, sampler="aligned", **kw).hash == RunConfig.resolve(
        "digits", 50, sampler="relative-loss", **kw).hash
    assert aligned.sampler_options["pool"] == 128 and aligned.to_dict()["auto"] == ["sampler"]
    assert "auto" not in explicit.to_dict()
    # the caller's options stand over the rule's
    assert RunConfig.resolve("digits", 1, sampler="aligned", sampler_options={"drop_hardest": 0.2},
                             **kw).sampler_options["drop_hardest"] == 0.2
    gamma = RunConfig.resolve("digits", 1, sampler="relative-loss", sampler_options={"gamma": "auto"}, **kw)
    assert gamma.sampler_options["gamma"] == -1.0 and "predictor" not in gamma.sampler_options  # γ only
    assert gamma.to_dict()["auto"] == ["gamma"]


def test_experts_are_trained_with_the_resolved_batches(monkeypatch):
    monkeypatch.setattr(METHODS.get("mtt"), "aligned_sampling", {1: {**TEACHER, "gamma": -1.0}})
    cfg = RunConfig.resolve("digits", 1, method="mtt", preset="tiny", sampler="aligned")
    assert cfg.experts.sampler == "relative-loss" and cfg.experts.sampler_options["gamma"] == -1.0


def test_a_method_without_a_validated_rule_refuses_both(monkeypatch):
    monkeypatch.setattr(METHODS.get("dc"), "aligned_sampling", {})
    with pytest.raises(InvalidParameterError, match=r"gamma='auto'.*'dc' has none"):
        RunConfig.resolve("digits", 1, method="dc", preset="tiny", sampler="relative-loss",
                          sampler_options={"gamma": "auto"})
    with pytest.raises(InvalidParameterError, match=r"sampler='aligned'.*'dc' has none"):
        RunConfig.resolve("digits", 1, method="dc", preset="tiny", sampler="aligned")


def test_the_samplers_themselves_explain_that_the_rule_belongs_to_a_run():
    from coredistill.sampling import create_sampler
    with pytest.raises(InvalidParameterError, match="resolved by a run's configuration"):
        create_sampler("relative-loss", gamma="auto").check()
    with pytest.raises(InvalidParameterError, match="resolved by a run's configuration"):
        create_sampler("aligned")


ROOT = Path(__file__).parents[2]


def test_the_methods_rules_are_the_ones_the_committed_validation_table_chose():
    # benchmarks/aligned_rule.py writes the choice; a method holds it (or none, until its exploration is done)
    table = (ROOT / "benchmarks" / "results" / "aligned-rule.md").read_text()
    line = next(line for line in table.splitlines() if line.startswith("aligned_sampling ("))
    chosen = json.loads(line.split("): ", 1)[1])
    assert chosen, "the table chose nothing"
    for name, rule in chosen.items():  # every choice is a method's, at a budget, as options the sampler takes
        assert name in METHODS.names() and all(int(ipc) > 0 for ipc in rule)
        for options in filter(None, rule.values()):
            create_sampler("relative-loss", **options).check()
    for name in METHODS.names():
        rule = METHODS.get(name).aligned_sampling
        if rule:
            assert name in chosen, f"{name} has a rule the validation table does not hold"
            assert rule == {int(ipc): options for ipc, options in chosen[name].items()}, name


def test_the_final_grids_aligned_both_uses_the_feature_space_its_pre_registered_rule_chose():
    # the rule's verdict is the last word of the table's last line: "pixels" (the initializer's own) or "teacher"
    table = (ROOT / "benchmarks" / "results" / "aligned-rule.md").read_text().strip()
    space = table.splitlines()[-1].rsplit(": ", 1)[1]
    grid = Grid.load(ROOT / "benchmarks" / "grids" / "aligned-final.yaml")
    variant = next(v for v in (Variant.from_entry(e, "variants") for e in grid.variants) if v.name == "aligned-both")
    assert space in ("pixels", "teacher")
    assert variant.features == (None if space == "pixels" else "teacher")


def test_the_rule_reads_an_mtt_cells_batches_from_its_experts(benchmark_script):
    # MTT draws real batches only to train its experts: the run's own sampler is uniform and the setting lives in
    # the experts' config; two MTT settings must stay two rows, not collapse into one (the later overwriting)
    script = benchmark_script("aligned_rule")

    def mtt(variant, gamma, seed, acc):
        experts = {"sampler": "relative-loss", "sampler_options": {"pool": 128, "predictor": "teacher",
                                                                   "gamma": gamma, "drop_misclassified": True,
                                                                   "drop_hardest": 0.1}}
        return {"method": "mtt", "dataset": "mnist", "ipc": 1, "seed": seed, "variant": variant, "accuracy": acc,
                "sampler": "relative-loss" if gamma is not None else "uniform",
                "config": {"init": "random", "sampler": "uniform", "sampler_options": {},
                           "experts": experts if gamma is not None else {"sampler": "uniform"}}}

    records = [mtt("baseline", None, s, 0.77) for s in (0, 1)]
    records += [mtt("aligned-sampling", -1.0, s, 0.79) for s in (0, 1)]
    records += [mtt("teacher-hard", 1.0, s, 0.73) for s in (0, 1)]
    easy, hard = (script.sampler_setting(r) for r in (records[2], records[4]))
    assert dict(easy) == {"gamma": -1.0, "predictor": "teacher", "drop_misclassified": True, "drop_hardest": 0.1}
    assert dict(hard)["gamma"] == 1.0 and script.sampler_setting(records[0]) is None
    rows, chosen = script.rule(records)
    assert sorted(row[2] for row in rows) == ["teacher γ +1, its mistakes out, hardest 0.1 out",
                                              "teacher γ -1, its mistakes out, hardest 0.1 out"]
    assert chosen["mtt"] == {1: dict(easy)}  # the easy batches gained 2 points, the hard ones lost 4
