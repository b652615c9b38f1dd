"""`reproduce`: the comparison's arithmetic, a run that saves its artifact and is read (not recomputed) the next
time, the coreset baselines, the CLI, and the published table's entries naming things that exist."""
import math

import pytest

from coredistill.cli import main
from coredistill.published import PUBLISHED, published
from coredistill.reproduce import BASELINES, compare, reproduce


def test_comparison_arithmetic():
    c = compare("dsa", "mnist", 10, "reproduce", [0.95, 0.97], 300,
                curve=[{"iteration": 100, "accuracy": 0.90}, {"iteration": 300, "accuracy": 0.96}])
    assert c.accuracy == pytest.approx(96.0) and c.std == pytest.approx(1.0)
    assert c.gap == pytest.approx(96.0 - 97.8)
    assert c.slope == pytest.approx(6.0 / 200 * 1000)  # points per 1,000 iterations at the curve's end
    assert c.paper_iterations == 1000
    row = c.row()
    assert row[3] == "96.00 ± 1.00" and row[4] == "97.8 ± 0.1" and row[5] == "-1.80" and "300 (1000)" in row
    # a point two iterations before the end (runs recorded before the loop skipped those) is not the slope's base:
    # the latest point at least half the curve's spacing back is
    late = compare("dm", "mnist", 1, "reproduce", [0.8942], 750, curve=[
        {"iteration": i, "accuracy": a} for i, a in
        [(187, 0.8970), (374, 0.8931), (561, 0.9009), (748, 0.89395), (750, 0.8942)]])
    assert late.slope == pytest.approx((89.42 - 90.09) / 189 * 1000)
    assert compare("dm", "mnist", 1, "reproduce", [0.9], 4, curve=[{"iteration": 4, "accuracy": 0.9}] * 2).slope \
        is None
    none = compare("dm", "digits", 1, "tiny", [0.5], 4)
    assert none.published is None and none.gap is None and none.slope is None
    assert "no published number" in none.row()[-1]


def test_a_run_is_saved_and_the_next_call_reads_it(digits, tmp_path, monkeypatch):
    out = tmp_path / "dm"
    artifact, c = reproduce("dm", digits, 1, preset="tiny", out=out, progress=False)
    assert (out / "manifest.json").is_file() and not out.with_name("dm.ckpt").exists()
    # evaluated every quarter of the run (iterations 1, 2, 3) and at its end
    assert c.method == "dm" and c.iterations == 4 and [i for i, _ in c.curve] == [1, 2, 3, 4]
    assert c.accuracy == pytest.approx(100 * artifact.record.accuracy)
    assert artifact.manifest["run"]["curve_nets"] == 2  # the curve's points with 2 nets, the end with the preset's

    import coredistill.pipeline as pipeline

    monkeypatch.setattr(pipeline, "distill", lambda *a, **k: pytest.fail("a finished run was recomputed"))
    again, c2 = reproduce("dm", digits, 1, preset="tiny", out=out, progress=False)
    assert c2 == c


@pytest.mark.parametrize("baseline", BASELINES)
def test_baselines_are_real_images_without_learning(baseline, digits, tmp_path):
    artifact, c = reproduce(baseline, digits, 1, preset="tiny", out=tmp_path / baseline, progress=False)
    m = artifact.manifest
    assert m["method"]["name"] == "none" and m["initializer"]["name"] == baseline
    assert c.method == baseline and c.iterations == 0 and c.paper_iterations is None


def test_cli_prints_ours_beside_published(capsys, tmp_path):
    code = main(["reproduce", "--method", "random", "--dataset", "digits", "--ipc", "1", "--preset", "tiny",
                 "--out", str(tmp_path / "r"), "--quiet"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0 and "published %" in out and "random" in out and "no published number recorded" in out
    # said before the run, naming the cells that have one
    assert "no published number is recorded for random on digits at IPC 1 (none for this method" in captured.err


@pytest.mark.slow
def test_cli_names_the_published_ipcs_before_an_unpublished_cell(capsys, tmp_path):
    code = main(["reproduce", "--method", "random", "--dataset", "mnist", "--ipc", "3", "--preset", "tiny",
                 "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0 and "no published number is recorded for random on mnist at IPC 3 (IPC 1, 10 only)" in err


def test_cli_names_the_published_numbers_own_evaluation_and_how_to_run_it(capsys, tmp_path, monkeypatch, mnist):
    import coredistill.reproduce as module
    from coredistill.reproduce import compare

    class Artifact:  # a finished RFAD run's artifact, as far as the command reads it
        manifest = {"preset": {"citations": {}}, "method": {"name": "rfad"}}

    monkeypatch.setattr(module, "reproduce", lambda *a, **k: (Artifact(), compare("rfad", "mnist", 1, "reproduce",
                                                                                   [0.6], 700)))
    code = main(["reproduce", "--method", "rfad", "--dataset", "mnist", "--ipc", "1", "--out", str(tmp_path / "r"),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "94.4" in out
    assert "the published number is RFAD's own finite-network evaluation" in out
    assert f"coredistill evaluate {tmp_path / 'r'} --protocol rfad-finite" in out
    assert published("rfad", "mnist", 10).protocol == "rfad-finite" and published("dm", "mnist", 1).protocol is None


def test_published_entries_name_registered_methods_and_data_sets():
    from coredistill.data import list_datasets
    from coredistill.methods import list_methods

    for (method, dataset, ipc), p in PUBLISHED.items():
        assert method in set(list_methods()) | set(BASELINES)
        assert dataset in list_datasets() and ipc > 0
        assert 0 < p.accuracy < 100 and (p.std is None or p.std >= 0) and p.source
    assert published("random", "mnist", 1).accuracy == 64.9
    # a named evaluation is one `coredistill evaluate --protocol` runs
    from coredistill.cli import build_parser
    evaluate = build_parser()._subparsers._group_actions[0].choices["evaluate"]
    protocols = next(a.choices for a in evaluate._actions if a.dest == "protocol")
    assert all(p.protocol in protocols for p in PUBLISHED.values() if p.protocol is not None)
    assert math.isclose(published("dc", "fashion-mnist", 10).accuracy, 82.3)
