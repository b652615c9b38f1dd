"""The report's statistics on hand-made records: paired Δ and p, the verdict's winner, the cost shares."""
import math

import numpy as np
import pytest
from scipy import stats

from coredistill.bench import Grid
from coredistill.table import parse_table as rows  # values, not column widths
from coredistill.bench.report import (cost_table, paired, reference_table, remaining_estimate, results_table,
                                      sampler_table, spent_table, variant_cost_table, verdict_table)


def test_paired_difference_and_t_test_on_common_seeds_only():
    a = {0: 0.80, 1: 0.83, 2: 0.81, 5: 0.99}
    b = {0: 0.78, 1: 0.80, 2: 0.80}
    mean, std, p, n = paired(a, b)
    assert n == 3 and mean == pytest.approx((0.02 + 0.03 + 0.01) / 3) and std == pytest.approx(0.01)
    assert p == pytest.approx(stats.ttest_rel([0.80, 0.83, 0.81], [0.78, 0.80, 0.80]).pvalue)
    assert math.isnan(paired({0: 0.5}, {0: 0.4})[2])  # one pair: no test
    assert math.isnan(paired({0: 0.5, 1: 0.6}, {0: 0.4, 1: 0.5})[2])  # constant differences: no t statistic


def _rec(variant, seed, acc, **kw):
    return {"dataset": "d", "ipc": 1, "method": "dm", "variant": variant, "seed": seed, "accuracy": acc,
            "init": "random", "sampler": "uniform", "metrics": {}, "select_s": 1.0, "distill_s": 9.0,
            "scoring_s": 0.0, "curve": [], "iterations": 10, **kw}


def test_verdict_names_the_best_variant_and_cost_shares():
    recs = [_rec("baseline", s, a, curve=[{"iteration": 5, "accuracy": a + 0.002 * (s - 1)},
                                          {"iteration": 10, "accuracy": a}])
            for s, a in enumerate([0.70, 0.72, 0.71])]
    recs += [_rec("both", s, a, scoring_s=3.0, curve=[{"iteration": 5, "accuracy": a - 0.005},
                                                      {"iteration": 10, "accuracy": a}])
             for s, a in enumerate([0.75, 0.76, 0.76])]
    (verdict,) = rows(verdict_table(recs))
    assert (verdict["method"], verdict["dataset"], verdict["ipc"], verdict["best variant"]) == ("dm", "d", "1", "both")
    assert verdict["its acc %"] == "75.67" and verdict["+both Δ"].startswith("+4.67 ± 0.58")
    (cost,) = rows(cost_table(recs))
    assert cost["selection share (init, both)"] == "10.0 %"  # selection: 1 s of 10
    assert cost["scoring share (sampling, both)"] == "33.3 %"  # scoring: 3 s of 9
    # both passes the baseline's final accuracy at iteration 5; the baseline's own curve: seed 0 rises to its end,
    # seeds 1 and 2 are there early
    assert cost["both reaches baseline's final acc at iteration (per cell)"] == "5/10, 5/10, 5/10"
    assert cost["baseline reaches its own final acc at"] == "10/10, 5/10, 5/10"


def test_cost_by_variant_shows_each_extra_steps_share_and_a_teachers_build():
    teacher = {"sampler_options": {"predictor": "teacher", "gamma": -1.0}}
    # the first cell trains the teacher (40 s inside its first re-scoring, inside distillation), the second loads it
    refreshes = [{"iteration": 0, "seconds": 41.0, "fit_s": 40.0}, {"iteration": 5, "seconds": 0.5, "fit_s": 0.1}]
    recs = [_rec("baseline", 0, 0.7),
            _rec("aligned-sampling", 0, 0.7, scoring_s=41.5, distill_s=49.0, refreshes=refreshes, config=teacher),
            _rec("aligned-sampling", 1, 0.7, scoring_s=0.5, config=teacher,
                 refreshes=[{"iteration": 0, "seconds": 0.3, "fit_s": 0.2}, {"iteration": 5, "seconds": 0.2}]),
            # the synthetic set's proxy is fitted at every re-scoring: all of its fits are scoring
            _rec("both", 0, 0.7, scoring_s=3.0, refreshes=[{"iteration": 0, "seconds": 1.5, "fit_s": 1.0}]),
            _rec("rep-init", 0, 0.7, init="kmeans-coreset", select_s=3.0, distill_s=7.0),
            _rec("prune", 0, 0.7, prune_s=12.0),
            _rec("herding-old", 0, 0.7, select_s=0.0),  # nothing extra: no row
            # a feature teacher: the run of a seed that trains it (30 s), one that reads its cached features, and
            # one recorded before features_s was
            *[_rec("rep-teacher", seed, 0.7, init="kmeans-coreset", select_s=select_s, config=space, **features)
              for seed, select_s, features in ((0, 31.0, {"features_s": 30.0}), (1, 1.5, {"features_s": 0.5}),
                                               (2, 50.0, {}))
              for space in [{"features": ["teacher", {"width": 32}]}]]]
    table = {r["variant"]: r for r in rows(variant_cost_table(recs))}
    assert set(table) == {"aligned-sampling", "both", "rep-init", "prune", "rep-teacher"}
    assert table["rep-teacher"]["teacher build s (max)"] == "30"  # the build recorded as such; not the older 50
    assert table["rep-init"]["teacher build s (max)"] == ""  # pixels: no teacher
    sampling = table["aligned-sampling"]
    # the build left out of both sides: (41.5 - 40) / (49 - 40) and 0.5 / 9, less the 0.2 s load -> 0.3 / 8.8
    assert sampling["cells"] == "2" and sampling["scoring share of distillation"] == "10.0 %"
    assert sampling["teacher build s (max)"] == "40"
    assert table["both"]["scoring share of distillation"] == "33.3 %" and table["both"]["teacher build s (max)"] == ""
    assert table["rep-init"]["selection share"] == "30.0 %" and table["rep-init"]["scoring share of distillation"] == ""
    assert table["prune"]["pruning s (max)"] == "12"
    assert variant_cost_table([_rec("baseline", 0, 0.7)]) == ""
    # the results table's scoring column is the same share: the teacher's build is not the sampler's scoring
    grid = Grid.from_dict({"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0, 1],
                           "methods": ["dm"]})
    by_variant = {r["variant"]: r for r in rows(results_table(grid, recs))}
    assert by_variant["aligned-sampling"]["scoring share"] == "10 %" and by_variant["both"]["scoring share"] == "33 %"


def test_reference_numbers_beside_the_papers_protocol_runs_only():
    grid = Grid.from_dict({"name": "p", "preset": "paper", "datasets": ["cifar10"], "ipc": [10], "seeds": [0, 1],
                           "methods": ["dm"], "selection": ["random"]})
    recs = [_rec("baseline", s, a, dataset="cifar10", ipc=10, preset="paper", accuracies=[a], iterations=20000,
                 curve=[{"iteration": 10000, "accuracy": a - 0.01}, {"iteration": 20000, "accuracy": a}])
            for s, a in ((0, 0.48), (1, 0.50))]
    recs.append(_rec("random", 0, 0.27, dataset="cifar10", ipc=10, method="none", preset="cpu", accuracies=[0.27]))
    table = {r["method"]: r for r in rows(reference_table(grid, recs))}
    dm = table["dm"]
    assert (dm["dataset"], dm["ipc"], dm["seeds"]) == ("cifar10", "10", "2")
    # every eval net of both seeds: 48 and 50 -> 49.00 ± 1.00 (the field's np.std over nets)
    assert (dm["published %"], dm["ours %"], dm["gap"]) == ("48.9", "49.00 ± 1.00", "+0.10")
    assert dm["iterations (paper)"] == "20000 (20000)" and dm["curve's last slope"] == "+0.10 / 1k it"
    # the random cell ran under the cpu preset: listed as not run yet, and left out of the finished rows
    assert table["random"]["ours %"].startswith("—")
    assert [r["method"] for r in rows(reference_table(grid, recs, finished_only=True))] == ["dm"]
    # a cpu-preset cell is not the published protocol: the random row waits for a paper/reproduce run
    assert (table["random"]["published %"], table["random"]["ours %"]) == ("26", "— (no run under the papers' "
                                                                            "protocol yet)")


def test_a_validation_split_is_never_set_beside_a_published_test_number():
    spec = {"name": "v", "preset": "reproduce", "datasets": ["mnist"], "ipc": [1], "seeds": [0], "methods": ["dm"],
            "variants": ["baseline"]}
    recs = [_rec("baseline", 0, 0.9, dataset="mnist", preset="reproduce", accuracies=[0.9], iterations=750)]
    assert rows(reference_table(Grid.from_dict(spec), recs))[0]["ours %"] == "90.00 ± 0.00"
    held_out = Grid.from_dict({**spec, "dataset_options": {"mnist": {"validation": 500, "validation_seed": 0}}})
    assert reference_table(held_out, recs) == ""


def test_a_selection_entry_is_compared_with_its_initializers_published_number():
    grid = Grid.from_dict({"name": "h", "preset": "reproduce", "datasets": ["mnist"], "ipc": [1], "seeds": [0],
                           "selection": ["herding", {"name": "herding-teacher", "init": "herding",
                                                     "features": "teacher"}]})
    recs = [_rec(name, 0, a, method="none", dataset="mnist", preset="reproduce", accuracies=[a], iterations=0)
            for name, a in (("herding", 0.84), ("herding-teacher", 0.87))]
    table = {r["method"]: r for r in rows(reference_table(grid, recs))}
    assert table["herding"]["published %"] == table["herding-teacher"]["published %"] == "89.2 ± 1.6"
    assert (table["herding"]["gap"], table["herding-teacher"]["gap"]) == ("-5.20", "-2.20")


def test_reference_table_says_when_a_published_number_used_another_evaluation():
    rfad = Grid.from_dict({"name": "r", "preset": "reproduce", "datasets": ["mnist"], "ipc": [1], "seeds": [0],
                           "methods": ["rfad"], "variants": ["baseline"]})
    table = reference_table(rfad, [])
    assert rows(table)[0]["published %"] == "94.4"
    assert "rfad: the published number is RFAD's own finite-network evaluation" in table
    assert "width 1024" in table
    dc = Grid.from_dict({"name": "d", "preset": "reproduce", "datasets": ["mnist"], "ipc": [1], "seeds": [0],
                         "methods": ["dc"], "variants": ["baseline"]})
    assert "published number is" not in reference_table(dc, [])  # DC's own number is on the protocol ours runs


def test_remaining_estimate_from_finished_siblings():
    grid = Grid.from_dict({"name": "e", "preset": "tiny", "datasets": ["digits"], "ipc": [1, 10], "seeds": [0, 1],
                           "methods": ["dm"], "variants": ["baseline"]})
    cells = grid.cells()  # ipc 1 seeds 0, 1; ipc 10 seeds 0, 1
    done = {cells[0].hash: {**_rec("baseline", 0, 0.5, dataset="digits"), "wall_s": 1800.0, "threads": 2}}
    text = remaining_estimate(grid, done)  # an older record without CPU time: wall × threads
    assert text.startswith("1 of 4 cells finished (1.0 core-hours spent: CPU time where recorded, else wall × "
                           "threads); 3 left, estimated 1.0 core-hours for 1 of them")
    assert "(2 with no finished cell" in text
    # CPU time, where recorded, is the cost: the wall time of a cell that waited for a core is not
    done[cells[0].hash]["cpu_s"] = 720.0
    assert "(0.2 core-hours spent" in remaining_estimate(grid, done)
    spent = {r["ipc"]: r for r in rows(spent_table(grid, done))}
    assert [spent["1"][k] for k in ("method", "cells finished", "core-hours", "core-s per cell", "measured as")] == [
        "dm", "1 / 2", "0.20", "720", "1 CPU, 0 wall × threads"]
    assert [spent["10"][k] for k in ("cells finished", "core-hours", "core-s per cell")] == ["0 / 2", "0.00", ""]


def test_sampler_table_averages_refreshes_beside_the_paired_delta():
    recs = [_rec("baseline", s, a) for s, a in enumerate([0.70, 0.72, 0.71])]
    recs += [_rec("sampling", s, a, refreshes=[{"iteration": 0, "entropy_ratio": 0.9, "mass90": 0.7},
                                               {"iteration": 5, "entropy_ratio": 0.8 + 0.1 * s, "mass90": 0.8}])
             for s, a in enumerate([0.69, 0.70, 0.70])]
    table = rows(sampler_table(recs))
    # 6 refreshes: entropy ratios 0.9, 0.8, 0.9, 0.9, 0.9, 1.0 → 0.900; mass90 (0.7 + 0.8) / 2; Δ −1.33 ± 0.58
    assert len(table) == 1  # one row: uniform batches have no refreshes
    cells = list(table[0].values())
    assert cells[:8] == ["dm", "d", "1", "sampling", "2", "0–5", "0.900", "0.750"]
    assert cells[8] == "-1.33 ± 0.58"
    assert sampler_table([_rec("baseline", 0, 0.7)]) == ""


def test_the_accuracy_plot_takes_named_variants(tmp_path):
    from coredistill.bench.report import plot_accuracy

    grid = Grid.from_dict({"name": "n", "preset": "tiny", "datasets": ["d"], "ipc": [1], "seeds": [0, 1],
                           "methods": ["dm"], "variants": ["baseline", {"name": "lr10", "method_options": {}}]})
    recs = [_rec(v, s, 0.7 + 0.01 * s) for v in ("baseline", "lr10") for s in (0, 1)]
    assert grid.variant_names() == ["baseline", "lr10"]
    assert plot_accuracy(grid, recs, tmp_path / "a.png").stat().st_size > 0


def test_holm_adjusts_step_down_and_keeps_order():
    from coredistill.bench.report import holm

    adjusted = holm([0.01, 0.04, math.nan, 0.03])
    # sorted 0.01, 0.03, 0.04 over 3 tests: 3 x 0.01, max(0.03, 2 x 0.03), max(0.06, 1 x 0.04)
    assert adjusted[0] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06)
    assert adjusted[1] == pytest.approx(0.06) and math.isnan(adjusted[2])
    assert holm([0.6, 0.5]) == [1.0, 1.0]  # capped at 1


def test_learning_bar_is_against_the_better_coreset_with_holm_and_the_ipc_margin():
    from coredistill.bench.report import holm, learning_table

    recs = [_rec("random", s, a, method="none") for s, a in enumerate([0.50, 0.52, 0.51])]
    recs += [_rec("herding", s, a, method="none") for s, a in enumerate([0.75, 0.76, 0.74])]
    recs += [_rec("baseline", s, a) for s, a in enumerate([0.80, 0.802, 0.79])]  # +4.7 over herding, steady
    recs += [_rec("tuned", s, a) for s, a in enumerate([0.77, 0.785, 0.76])]  # +2: under the IPC-1 bar of 3
    recs += [_rec("baseline", s, a, ipc=10) for s, a in enumerate([0.93, 0.94, 0.935])]
    recs += [_rec("herding", s, a, ipc=10, method="none") for s, a in enumerate([0.92, 0.925, 0.93])]
    table = {(r["ipc"], r["variant"]): r for r in rows(learning_table(recs))}
    assert set(table) == {("1", "baseline"), ("1", "tuned"), ("10", "baseline")}
    base = table[("1", "baseline")]
    assert base["better coreset"] == "herding" and base["Δ vs it (paired)"].startswith("+4.73") and base["bar"] == "+3"
    ps = [stats.ttest_rel(a, b).pvalue for a, b in (([0.80, 0.802, 0.79], [0.75, 0.76, 0.74]),
                                                    ([0.77, 0.785, 0.76], [0.75, 0.76, 0.74]),
                                                    ([0.93, 0.94, 0.935], [0.92, 0.925, 0.93]))]
    assert float(base["p"]) == pytest.approx(ps[0], abs=1e-3)
    # the family of a variant is its cells: baseline at IPC 1 and 10 (2 tests); "tuned" alone is its own family
    assert float(base["p (Holm, variant's cells)"]) == pytest.approx(holm([ps[0], ps[2]])[0], abs=1e-3)
    assert float(table[("1", "tuned")]["p (Holm, variant's cells)"]) == pytest.approx(ps[1], abs=1e-3)
    assert base["cleared"] == "yes" and table[("1", "tuned")]["cleared"] == "no"  # +2 < 3 points
    ten = table[("10", "baseline")]
    assert ten["bar"] == "+1" and ten["better coreset"] == "herding" and ten["Δ vs it (paired)"].startswith("+1.00")
    assert learning_table([r for r in recs if r["method"] != "none"]) == ""  # no coresets: nothing to say


def test_a_report_removes_its_own_tables_that_have_nothing_to_say_now(tmp_path):
    from coredistill.bench.report import write_report

    grid = Grid.from_dict({"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm"]})
    stale = {name: tmp_path / f"{name}.md" for name in ("aligned", "reference", "reproduced")}
    notes = tmp_path / "notes.md"  # not a table the report writes: left alone
    for path in (*stale.values(), notes):
        path.write_text("an earlier report's table\n")
    files = write_report(grid, {}, tmp_path, plots=False)
    assert not any(path.exists() for path in stale.values()) and notes.exists()
    assert files["results"].exists() and "aligned" not in files


def test_a_renamed_variant_reports_its_stored_cells_under_the_new_name(tmp_path):
    import json

    from coredistill.bench.report import write_report
    from coredistill.bench.runner import read_results

    spec = {"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0], "methods": ["dm"],
            "selection": [], "variants": [{"name": "preset"}]}
    cell = Grid.from_dict(spec).cells()[0]
    stored = _rec("preset", 0, 0.5, versions={}, eval_s=1.0, wall_s=11.0, cpu_s=11.0, threads=1)
    (tmp_path / "results.jsonl").write_text(json.dumps({"hash": cell.hash, **stored}) + "\n")
    iterations = cell.config["method_options"]["iterations"]
    renamed = Grid.from_dict({**spec, "variants": [{"name": "pinned", "method_options": {"iterations": iterations}}]})
    assert renamed.cells()[0].hash == cell.hash  # the same resolved run
    write_report(renamed, read_results(tmp_path), tmp_path, plots=False)
    assert [r["variant"] for r in rows((tmp_path / "results.md").read_text().split("\n\n", 1)[1])] == ["pinned"]


def test_aligned_verdicts_per_cell_with_holm_over_the_variants_cells():
    from coredistill.bench.report import aligned_table, holm

    base = {1: [0.80, 0.81, 0.79, 0.80, 0.805], 10: [0.90, 0.91, 0.905, 0.90, 0.91]}
    # IPC 1: a steady gain of 2 points, above both rivals; IPC 10: a steady loss of about 1 point
    aligned = {1: [0.82, 0.83, 0.81, 0.82, 0.826], 10: [0.89, 0.90, 0.894, 0.891, 0.90]}
    rivals = {("both", 1): 0.01, ("herding-init", 1): 0.015, ("both", 10): -0.02, ("herding-init", 10): 0.0}
    recs = []
    for ipc in (1, 10):
        recs += [_rec("baseline", s, a, ipc=ipc) for s, a in enumerate(base[ipc])]
        recs += [_rec("aligned-both", s, a, ipc=ipc) for s, a in enumerate(aligned[ipc])]
        for name in ("both", "herding-init"):
            recs += [_rec(name, s, a + rivals[(name, ipc)], ipc=ipc) for s, a in enumerate(base[ipc])]
    recs += [_rec("random", s, 0.5, method="none") for s in range(5)]  # coresets are not cells of this table
    text = aligned_table(recs)
    table = {r["ipc"]: r for r in rows(text.split("\n\n")[0])}
    assert list(rows(text.split("\n\n")[0])[0])[5:8] == ["both Δ", "herding-init Δ", "aligned-both Δ"]
    ps = [stats.ttest_rel(aligned[i], base[i]).pvalue for i in (1, 10)]
    one, ten = table["1"], table["10"]
    assert one["aligned-both Δ"].startswith("+2.02") and f"Holm {holm(ps)[0]:.3f}" in one["aligned-both Δ"]
    assert holm(ps)[0] < 0.05 and holm(ps)[1] < 0.05  # both cells significant after the correction
    assert one["aligned-both: met"] == "no significant loss, significant gain, ≥ best rival"
    assert ten["aligned-both: met"] == "none"  # a significant loss, and below herding-init's (equal) baseline
    assert text.endswith("no significant loss against the baseline in 1, a significant gain in 1, a mean at least "
                         "the best of both / herding-init in 1")
    assert aligned_table([r for r in recs if r["variant"] != "aligned-both"]) == ""
    # the front page's copy: the same cells and verdicts, in short
    compact = aligned_table(recs, compact=True)
    short = {r["ipc"]: r for r in rows(compact.split("\n\n")[0])}
    assert list(rows(compact.split("\n\n")[0])[0])[3:] == ["baseline %", "aligned-both %", "Δ (Holm p)", "both Δ",
                                                             "herding-init Δ", "met"]
    assert short["1"]["aligned-both %"] == f"{100 * np.mean(aligned[1]):.2f}"
    assert short["1"]["Δ (Holm p)"] == one["aligned-both Δ"].split(" (")[0] + f" (Holm {holm(ps)[0]:.3f})"
    assert short["1"]["herding-init Δ"] == "+1.50" and short["10"]["both Δ"] == "-2.00"
    assert (short["1"]["met"], short["10"]["met"]) == ("no loss, gain, ≥ rival", "none")
    assert compact.split("\n\n")[1] == text.split("\n\n")[1]


def test_aligned_power_is_the_gain_a_paired_t_test_needs_under_holm():
    from coredistill.bench.report import aligned_power_table

    base = [0.80, 0.81, 0.79, 0.80, 0.805]
    gain = {"dm": [0.01, 0.012, 0.008, 0.011, 0.009], "dc": [0.01, -0.01, 0.02, 0.0, 0.005]}  # steady; noisy
    recs = []
    for method, g in gain.items():
        recs += [_rec("baseline", s, a, method=method) for s, a in enumerate(base)]
        recs += [_rec("aligned-both", s, a + d, method=method) for s, (a, d) in enumerate(zip(base, g))]
    recs += [_rec("baseline", s, a, method="mtt") for s, a in enumerate(base)]  # in the family, not yet run
    recs += [_rec("aligned-both", 0, 0.9, method="mtt")]
    text = aligned_power_table(recs)
    table = {r["method"]: r for r in rows(text.split("\n\n")[0])}
    assert set(table) == {"dm", "dc"}  # a cell short of the baseline's seeds is left out
    # 3 cells, default target 2 of them: the second Holm step tests at alpha / 2
    assert "Δ needed as 2 of 3 (α/2)" in text.split("\n")[0]
    for method, g in gain.items():
        sd = stats.tstd(g)
        t_alone, t_holm = stats.t.ppf(1 - 0.05 / 2, 4), stats.t.ppf(1 - 0.025 / 2, 4)
        assert float(table[method]["Δ needed alone (α = 0.05)"]) == pytest.approx(100 * t_alone * sd / 5 ** 0.5,
                                                                                   abs=0.006)
        assert float(table[method]["Δ needed as 2 of 3 (α/2)"]) == pytest.approx(100 * t_holm * sd / 5 ** 0.5,
                                                                                  abs=0.006)
        # reached exactly when the paired test itself would pass at that level
        p = stats.ttest_rel([a + d for a, d in zip(base, g)], base).pvalue
        assert (table[method]["reached"] == "yes") == (p < 0.025)
    assert table["dm"]["reached"] == "yes" and table["dc"]["reached"] == "no"
    assert text.endswith("in 1 of its 2 finished cells (paired t-test, two-sided; Δ in points)")
    assert aligned_power_table([r for r in recs if r["variant"] != "aligned-both"]) == ""


def test_aligned_rivals_head_to_head_with_holm_over_each_rivals_cells():
    from coredistill.bench.report import aligned_rivals_table, holm

    base = [0.80, 0.81, 0.79, 0.80, 0.805]
    aligned = {"dm": [a + 0.02 for a in base], "dc": [a + d for a, d in zip(base, [0.01, -0.01, 0.02, 0.0, 0.005])],
               "mtt": [a + d for a, d in zip(base, [0.01, 0.0, 0.02, 0.005, 0.01])]}
    # dm: 2 points above both on every seed (with a little spread), 1 point below herding-init's; dc: noisy
    rival = {("dm", "both"): [a - d for a, d in zip(aligned["dm"], [0.02, 0.021, 0.019, 0.022, 0.018])],
             ("dm", "herding-init"): [a + d for a, d in zip(aligned["dm"], [0.01, 0.011, 0.009, 0.012, 0.01])],
             ("dc", "both"): base, ("dc", "herding-init"): base, ("mtt", "both"): base}
    recs = []
    for method in aligned:
        recs += [_rec("baseline", s, a, method=method) for s, a in enumerate(base)]
        recs += [_rec("aligned-both", s, a, method=method) for s, a in enumerate(aligned[method])]
    for (method, name), accs in rival.items():
        recs += [_rec(name, s, a, method=method) for s, a in enumerate(accs)]
    recs += [_rec("herding-init", 0, 0.9, method="mtt")]  # short of the baseline's seeds: no test
    text = aligned_rivals_table(recs)
    table = {r["method"]: r for r in rows(text.split("\n\n")[0])}
    p = {(m, n): stats.ttest_rel(aligned[m], rival[(m, n)]).pvalue for m, n in rival}
    both = holm([p[("dm", "both")], p[("dc", "both")], p[("mtt", "both")]])
    herding = holm([p[("dm", "herding-init")], p[("dc", "herding-init")]])  # mtt's is not in the family
    assert table["dm"]["aligned-both − both"] == f"+2.00 ± 0.16 (p {p[('dm', 'both')]:.3f}, Holm {both[0]:.3f}), above"
    assert table["dm"]["aligned-both − herding-init"] == (f"-1.04 ± 0.11 (p {p[('dm', 'herding-init')]:.3f}, "
                                                          f"Holm {herding[0]:.3f}), below")
    assert table["dc"]["aligned-both − both"].endswith(f"Holm {both[1]:.3f})")  # level: no side named
    assert min(both[1:]) >= 0.05 and table["mtt"]["aligned-both − herding-init"] == ""
    assert text.endswith("against both over 3 cells: significantly above in 1, below in 0, level in 2; against "
                         "herding-init over 2 cells: significantly above in 0, below in 1, level in 1")
    assert aligned_rivals_table([r for r in recs if r["variant"] != "aligned-both"]) == ""


def test_aligned_table_marks_the_baselines_own_runs_and_cells_still_running():
    from coredistill.bench.report import aligned_table

    recs = []
    for ipc in (1, 10):
        recs += [_rec("baseline", s, 0.80 + 0.01 * s, ipc=ipc, hash=f"b{ipc}{s}") for s in range(3)]
    # IPC 1: the rule chose uniform batches, so aligned-sampling's cells are the baseline's runs (same hashes)
    recs += [_rec("aligned-sampling", s, 0.80 + 0.01 * s, hash=f"b1{s}") for s in range(3)]
    recs += [_rec("aligned-both", s, 0.82 + 0.01 * s, hash=f"a1{s}") for s in range(3)]
    # IPC 10: a variant with the same accuracies but its own runs is a result (+0.00), not the baseline's;
    # aligned-both has run one seed of three
    recs += [_rec("aligned-sampling", s, 0.80 + 0.01 * s, ipc=10, hash=f"s10{s}") for s in range(3)]
    recs += [_rec("aligned-both", 0, 0.70, ipc=10, hash="a100")]
    text = aligned_table(recs)
    table = {r["ipc"]: r for r in rows(text.split("\n\n")[0])}
    assert table["1"]["aligned-sampling Δ"] == "= baseline"
    assert table["10"]["aligned-sampling Δ"] == "+0.00 ± 0.00"
    assert table["10"]["aligned-both Δ"] == "-10.00 [1 of 3 seeds]"
    assert table["10"]["aligned-both: met"] == "pending (1 of 3 seeds)"  # not a verdict on one seed
    assert table["1"]["aligned-both: met"].startswith("no significant loss")
    assert "over its 1 cells with the baseline's seeds" in text
    short = {r["ipc"]: r for r in rows(aligned_table(recs, compact=True).split("\n\n")[0])}
    assert (short["10"]["Δ (Holm p)"], short["10"]["met"]) == ("-10.00", "pending (1 of 3 seeds)")  # said once


def test_the_front_page_copy_of_the_reference_table_keeps_the_comparison_and_names_another_evaluation():
    grid = Grid.from_dict({"name": "r", "preset": "reproduce", "datasets": ["mnist"], "ipc": [1], "seeds": [0],
                           "methods": ["rfad"], "variants": ["baseline"]})
    recs = [_rec("baseline", 0, 0.61, method="rfad", dataset="mnist", preset="reproduce", accuracies=[0.6, 0.62],
                 iterations=700, curve=[{"iteration": 350, "accuracy": 0.62}, {"iteration": 700, "accuracy": 0.61}])]
    full, compact = reference_table(grid, recs), reference_table(grid, recs, compact=True)
    row = rows(compact)[0]
    assert "source" not in row and "curve's last slope" not in row
    assert {k: row[k] for k in row} == {k: v for k, v in rows(full)[0].items() if k in row}  # the same numbers
    assert (row["ours %"], row["published %"], row["gap"]) == ("61.00 ± 1.00", "94.4 ± 1.5", "-33.40")
    assert "rfad: the published number is under rfad's own evaluation" in compact and "width 1024" not in compact
    assert len(compact) < len(full)
