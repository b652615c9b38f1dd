"""The smoke grid end to end (what `make test` runs), resume by cell hash, failures, isolated cells."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from coredistill.bench import Grid, read_results, run_grid, write_report
from coredistill.cli import main
from coredistill.errors import InvalidParameterError
from coredistill.table import parse_table

SMOKE = Path(__file__).resolve().parents[2] / "benchmarks" / "grids" / "smoke.yaml"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    grid = Grid.load(SMOKE)
    logs = []
    done = run_grid(grid, out, jobs=0, log=logs.append)
    return grid, out, done, logs


def test_smoke_grid_finishes_every_cell_with_the_table_columns(smoke):
    grid, out, done, logs = smoke
    assert {c.hash for c in grid.cells()} == set(done)
    assert all(0 <= r["features_s"] <= r["select_s"] for r in done.values())  # the features step, part of selection
    started = [line for line in logs if line.startswith("  started ")]  # each cell says when it starts
    assert len(started) == len(done) and set(started) <= {f"  started {c.label()}" for c in grid.cells()}
    files = write_report(grid, done, out)
    rows = list(csv.DictReader(files["csv"].open()))
    assert len(rows) == len(grid.cells())
    for key in ("method", "dataset", "ipc", "variant", "seed", "accuracy", "accuracy_std_nets", "select_s",
                "distill_s", "scoring_s", "eval_s", "peak_mb", "cpu_s", "preset", "torch", "coredistill"):
        assert all(r[key] != "" for r in rows), key
    assert all(0 < float(r["cpu_s"]) for r in rows)
    assert all(0 <= float(r["accuracy"]) <= 1 for r in rows)
    # phase (2) shows where it acts: scoring time in the loop for dm/rfad, an expert buffer of its own for mtt
    assert all(float(r["scoring_s"]) > 0 for r in rows if r["variant"] in ("sampling", "both") and r["method"] != "mtt")
    mtt = [r for r in rows if r["method"] == "mtt"]
    assert {r["sampler"] for r in mtt if r["variant"] == "sampling"} == {"relative-loss"}
    assert all(float(r["experts_build_s"]) > 0 for r in mtt)
    assert all(r["kernel_accuracy"] != "" for r in rows if r["method"] == "rfad")
    table = parse_table(files["results"].read_text())
    assert {(r["dataset"], r["ipc"], r["method"], r["variant"]) for r in table} >= {("digits", "1", "dm", "both")}
    assert any(k.startswith("Δ vs baseline") for k in table[0])
    assert files["accuracy"].stat().st_size > 0
    assert {r["method"] for r in parse_table(files["verdict"].read_text())} == {"dm", "rfad", "mtt"}
    # every method variant against the better no-learning coreset of its data set and IPC
    learning = parse_table(files["learning"].read_text())
    assert {r["method"] for r in learning} == {"dm", "rfad", "mtt"}
    assert {r["better coreset"] for r in learning} <= {"random", "herding"} and {r["bar"] for r in learning} == {"+3"}
    # the importance diagnostics of the runs that sampled their own batches (MTT's sampler is in its buffer)
    sampler = {(r["method"], r["variant"]) for r in parse_table(files["sampler"].read_text())}
    assert ("dm", "sampling") in sampler and ("rfad", "sampling") in sampler and not any(m == "mtt" for m, _ in sampler)
    cost = files["cost"].read_text()  # the measured cost per method and IPC: the table after the estimate
    spent = {(r["method"], r["ipc"]): r for r in parse_table(cost[cost.index("| method | ipc"):])}
    assert spent["mtt", "1"]["cells finished"] == "8 / 8"


def test_rerun_computes_nothing_and_a_lost_cell_is_recomputed_alone(smoke, tmp_path):
    grid, out, done, _ = smoke
    ran = []
    assert run_grid(grid, out, jobs=0, on_record=ran.append, log=lambda _: None) == done and ran == []
    # a copy whose last finished cell was lost, plus a torn line as a killed writer leaves
    lines = (out / "results.jsonl").read_text().splitlines()
    (tmp_path / "results.jsonl").write_text("\n".join(lines[:-1]) + '\n{"hash": "tor')
    for name in ("experts",):
        (tmp_path / name).symlink_to(out / name)
    run_grid(grid, tmp_path, jobs=0, on_record=ran.append, log=lambda _: None)
    lost = json.loads(lines[-1])
    assert [r["hash"] for r in ran] == [lost["hash"]]
    assert ran[0]["accuracy"] == lost["accuracy"]  # same seed, same machine: the same result


def test_only_restricts_and_a_failing_cell_does_not_stop_the_others(tmp_path, monkeypatch):
    # a failure only the run itself meets (a loss that diverges): the cell is reported, the others go on
    from coredistill.bench import runner
    from coredistill.errors import DivergenceError

    real = runner.run_cell

    def diverging(cell, *args, **kwargs):
        if cell.variant == "sampling":
            raise DivergenceError("loss=nan at iteration 3: expected a finite loss (lower lr_images)")
        return real(cell, *args, **kwargs)

    monkeypatch.setattr(runner, "run_cell", diverging)
    grid = Grid.from_dict({"name": "f", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm"], "variants": ["baseline", "sampling"], "selection": ["random"]})
    logs = []
    done = run_grid(grid, tmp_path, jobs=0, only={"variant": {"baseline", "sampling"}}, log=logs.append)
    assert [r["variant"] for r in done.values()] == ["baseline"]  # random was filtered out, sampling failed
    text = "\n".join(logs)
    assert "FAILED digits ipc 1 seed 0 dm/sampling: DivergenceError: loss=nan" in text and "1 cell(s) failed" in text
    assert "Traceback" not in text  # the library's own error: its message is the report
    # a value no cell has selects nothing: refused, with the values there are
    with pytest.raises(InvalidParameterError, match=r"only method=\['dn'\]: expected values the grid's cells "
                                                    r"have: dm, none"):
        run_grid(grid, tmp_path, jobs=0, only={"method": {"dm", "dn"}}, log=logs.append)


@pytest.mark.parametrize("methods,variant,match", [
    (["dm"], {"name": "v", "sampler": "relative-loss", "sampler_options": {"gamma": "abc"}}, "dm/v: gamma='abc'"),
    (["dm"], {"name": "v", "method_options": {"iterations": -1}}, "dm/v: iterations=-1"),
    # MTT's batches are its experts': checked before the buffer it would be built with, and its own options
    (["mtt"], {"name": "v", "sampler": "relative-loss", "sampler_options": {"beta": 2}}, "mtt/v: beta=2"),
    (["mtt"], {"name": "v", "method_options": {"syn_steps": 0}}, "mtt/v: syn_steps=0"),
])
def test_a_misspelt_option_stops_the_grid_before_any_cell_runs(tmp_path, monkeypatch, methods, variant, match):
    from coredistill.bench import runner

    ran = []
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a, **k: ran.append(cell))
    monkeypatch.setattr(runner, "build_expert_buffer", lambda *a, **k: ran.append(a))
    grid = Grid.from_dict({"name": "typo", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": methods, "variants": ["baseline", variant], "selection": ["random"]})
    with pytest.raises(InvalidParameterError, match=rf"digits ipc 1 seed 0 {match}"):
        run_grid(grid, tmp_path, jobs=0, log=lambda _: None)
    assert ran == []  # not the coreset, not the baseline, not a buffer: nothing ran


def test_a_folder_another_run_is_writing_is_refused_before_any_cell_runs(tmp_path, monkeypatch):
    from coredistill.bench import runner
    from coredistill.folder_lock import exclusive

    ran = []
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a, **k: ran.append(cell))
    grid = Grid.from_dict({"name": "twice", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm"], "variants": ["baseline"], "selection": ["random"]})
    with exclusive(tmp_path, "out"):  # as a first `coredistill bench` on this folder holds it
        with pytest.raises(InvalidParameterError, match=rf"out='{tmp_path}': expected a folder no other process "
                                                        rf"is writing: process {os.getpid()} "):
            run_grid(grid, tmp_path, jobs=0, log=lambda _: None)
    assert ran == []


@pytest.mark.parametrize("jobs", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_cells_without_experts_run_before_a_build_and_a_failed_build_fails_only_its_cells(tmp_path, jobs):
    # the builds are stubbed (they fail), the cells too; with jobs=1 the pool runs the stubs in fresh processes,
    # so they are this module's functions, which those processes import
    from coredistill.bench import runner
    from coredistill.methods.experts import expert_file

    grid = Grid.from_dict({"name": "order", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["mtt", "dm"], "variants": ["baseline", "sampling"], "selection": ["random"]})
    # the sampling variant's buffer is already complete (as a previous session leaves it): nothing to build
    complete = next(c for c in grid.cells() if c.method == "mtt" and c.variant == "sampling").experts
    folder = runner.expert_folder(tmp_path, complete)
    folder.mkdir(parents=True)
    for i in range(complete.num_experts):
        expert_file(folder, i).touch()
    logs: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "build_expert_buffer", _failing_build)
        mp.setattr(runner, "run_cell", _stub_cell)
        mp.setattr(runner, "_isolated_cell", _stub_isolated_cell)
        done = run_grid(grid, tmp_path, jobs=jobs, threads=1, log=logs.append)
    ran = [line.split()[5].rstrip(":") for line in logs if line.startswith("  digits ")]
    failed = [line for line in logs if "FAILED experts" in line]
    # every cell ran but mtt/baseline, whose buffer's build failed; mtt/sampling's buffer was there already
    assert sorted(ran) == ["dm/baseline", "dm/sampling", "mtt/sampling", "none/random"] and len(done) == 4
    assert "1 expert buffers" in logs[0]
    assert len(failed) == 1 and "1 cells wait for it" in failed[0] and "disk on fire" in failed[0]
    assert logs[-1].endswith("1 cell(s) failed; rerun to retry them")
    if jobs == 0:  # one process: the order is the grid's, free cells before any build
        assert logs.index(failed[0]) > max(i for i, line in enumerate(logs) if line.startswith("  digits "))


def _failing_build(spec, out, threads=None, reuse=()):
    raise RuntimeError("disk on fire")


def _stub_cell(cell, out, threads=None, isolated=False, checkpoint_every=0, keep_set=False):
    return {"hash": cell.hash, "method": cell.method, "dataset": cell.dataset, "ipc": cell.ipc,
            "variant": cell.variant, "seed": cell.seed, "accuracy": 0.5, "wall_s": 0.0}


def _stub_isolated_cell(cell, out, threads, checkpoint_every=0, keep_set=False):
    return _stub_cell(cell, out)


def test_a_buffer_takes_the_experts_another_grids_buffer_of_the_same_config_holds(tmp_path):
    from dataclasses import replace

    from coredistill.bench import runner
    from coredistill.methods.experts import expert_file

    grid = Grid.from_dict({"name": "e", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["mtt"], "variants": ["baseline"], "selection": [],
                           "experts": {"num_experts": 2}})
    spec = grid.cells()[0].experts
    smaller = runner.build_expert_buffer(replace(spec, num_experts=1), str(tmp_path / "results" / "other"))
    other = Path(smaller["folder"])
    built = runner.build_expert_buffer(spec, str(tmp_path / "out"), reuse=[tmp_path / "results"])
    folder = Path(built["folder"])
    assert runner.expert_sources(spec, [tmp_path / "results"]) == [other] != [folder]
    assert expert_file(folder, 0).read_bytes() == expert_file(other, 0).read_bytes()  # copied, not trained
    assert expert_file(folder, 1).is_file() and built["experts"] == 2  # the one it lacked, trained here
    seconds = json.loads((folder / "manifest.json").read_text())["seconds"]
    assert seconds["0"] == json.loads((other / "manifest.json").read_text())["seconds"]["0"]  # its cost kept


def test_cells_another_grid_finished_are_reused_not_run(tmp_path, monkeypatch):
    from coredistill.bench import runner

    first = Grid.from_dict({"name": "a", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                            "methods": [], "selection": ["random", "herding"]})
    stored = run_grid(first, tmp_path / "results" / "a", jobs=0, log=lambda _: None)
    ran = []
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a, **k: ran.append(cell.variant) or {
        **next(iter(stored.values())), "hash": cell.hash, "variant": cell.variant, "seed": cell.seed})
    second = Grid.from_dict({"name": "b", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0, 1],
                             "methods": [], "selection": ["herding"]})
    out = tmp_path / "results" / "b"
    done = run_grid(second, out, jobs=0, log=lambda _: None, reuse=[tmp_path / "results"])
    assert ran == ["herding"]  # seed 1 ran; seed 0 was the first grid's cell
    (seed0,) = [r for r in done.values() if r["seed"] == 0]
    assert seed0 == {**stored[seed0["hash"]], "reused_from": str(tmp_path / "results" / "a")}
    assert read_results(out) == done  # written down, so a rerun reuses nothing twice and runs nothing
    again = run_grid(second, out, jobs=0, log=lambda _: None, reuse=[tmp_path / "results"])
    assert again == done and ran == ["herding"]


def test_a_grid_that_keeps_sets_reuses_a_cells_kept_set_with_its_record(tmp_path):
    from coredistill.bench.runner import set_folder

    spec = {"preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0], "methods": [],
            "selection": ["random"], "keep_sets": True}
    first = Grid.from_dict({**spec, "name": "a"})
    run_grid(first, tmp_path / "results" / "a", jobs=0, log=lambda _: None)
    (cell,) = first.cells()
    kept = set_folder(tmp_path / "results" / "a", cell)
    out = tmp_path / "results" / "b"
    run_grid(Grid.from_dict({**spec, "name": "b"}), out, jobs=0, log=lambda _: None, reuse=[tmp_path / "results"])
    copy = set_folder(out, cell)
    names = sorted(f.name for f in kept.iterdir())
    assert "manifest.json" in names and sorted(f.name for f in copy.iterdir()) == names
    assert all((copy / n).read_bytes() == (kept / n).read_bytes() for n in names)  # the set itself, not a re-save
    plain = tmp_path / "results" / "c"  # a grid that keeps no sets copies the record only
    run_grid(Grid.from_dict({**spec, "name": "c", "keep_sets": False}), plain, jobs=0, log=lambda _: None,
             reuse=[tmp_path / "results" / "a"])
    assert read_results(plain) and not (plain / "sets").exists()


def test_variants_that_resolve_to_one_run_run_it_once_and_report_it_under_each(tmp_path, monkeypatch):
    from coredistill.bench import runner
    from coredistill.methods import METHODS

    monkeypatch.setattr(METHODS.get("dm"), "aligned_sampling", {1: None})  # uniform batches at IPC 1: the baseline
    grid = Grid.from_dict({"name": "u", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm"], "selection": [],
                           "variants": ["baseline", {"name": "aligned-sampling", "sampler": "aligned"}]})
    ran = []
    real = runner.run_cell
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a, **k: ran.append(cell.variant) or real(cell, *a, **k))
    done = run_grid(grid, tmp_path, jobs=0, log=lambda _: None)
    assert ran == ["baseline"] and len(done) == 1
    write_report(grid, done, tmp_path)
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    by = {r["variant"]: r["accuracy"] for r in rows if r["method"] == "dm"}
    assert set(by) == {"baseline", "aligned-sampling"} and by["baseline"] == by["aligned-sampling"]


def test_an_unexpected_failure_is_logged_with_its_traceback(tmp_path, monkeypatch):
    from coredistill.bench import runner

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "run_cell", broken)
    grid = Grid.from_dict({"name": "f", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": [], "selection": ["random"]})
    logs = []
    assert run_grid(grid, tmp_path, jobs=0, log=logs.append) == {}
    text = "\n".join(logs)
    assert "Traceback" in text and "RuntimeError: disk on fire" in text and "in broken" in text


@pytest.mark.slow
def test_isolated_cells_run_in_fresh_processes_on_the_threads_asked(tmp_path, capfd):
    grid = Grid.from_dict({"name": "iso", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "selection": ["random"]})
    done = run_grid(grid, tmp_path, jobs=1, threads=1, log=lambda _: None)
    (rec,) = done.values()
    # the worker says when its cell started, in the grid's output, with its own process id
    (line,) = [line for line in capfd.readouterr().out.splitlines() if line.startswith("  started ")]
    assert line.startswith(f"  started {grid.cells()[0].label()} (process ") and f"process {os.getpid()}," not in line
    assert rec["peak_scope"] == "cell" and rec["peak_mb"] > 0
    assert rec["threads"] == 1 and rec["blas_threads"] == 1  # numpy's BLAS too, not one thread per core


def test_cli_bench_report_only(smoke, capsys):
    grid, out, _, _ = smoke
    assert main(["bench", "--grid", str(SMOKE), "--out", str(out), "--report-only"]) == 0
    assert "grid `smoke`" in capsys.readouterr().out
    assert main(["bench", "--grid", str(SMOKE), "--out", str(out), "--only", "colour=red"]) == 2
    assert "--only='colour=red'" in capsys.readouterr().err


def test_cli_report_only_with_reuse_copies_finished_cells_and_runs_nothing(tmp_path, monkeypatch, capsys):
    import yaml

    import coredistill.bench.runner as runner

    spec = {"name": "r", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0, 1],
            "selection": ["random"]}
    first = run_grid(Grid.from_dict({**spec, "seeds": [0]}), tmp_path / "results" / "a", jobs=0, log=lambda _: None)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(runner, "run_cell", lambda *a, **k: pytest.fail("--report-only ran a cell"))
    out = tmp_path / "new" / "r"
    assert main(["bench", "--grid", str(path), "--out", str(out), "--report-only", "--reuse",
                 str(tmp_path / "results")]) == 0
    assert set(read_results(out)) == set(first)  # seed 0 copied, seed 1 not run
    assert "1 of 2 cells finished" in (out / "results.md").read_text()
    # a folder a grid is writing gets its report, not the copies: its results file is the running grid's
    from coredistill.folder_lock import exclusive

    busy = tmp_path / "busy" / "r"
    with exclusive(busy, "out"):
        assert main(["bench", "--grid", str(path), "--out", str(busy), "--report-only", "--reuse",
                     str(tmp_path / "results")]) == 0
    assert "1 of 2 cells finished" in (busy / "results.md").read_text() and read_results(busy) == {}
    assert f"1 cell(s) other grids finished are in this report, not copied into {busy}: process {os.getpid()}" \
        in capsys.readouterr().err


def test_a_stopped_cell_continues_from_its_checkpoint_with_the_same_result(tmp_path, monkeypatch):
    """checkpoint_every: a grid stopped inside a cell continues there on the next run (not from iteration 0), the
    result equals an uninterrupted cell's, the checkpoint folder goes when the cell is done, and the cell's hash
    does not depend on the setting. keep_sets: the finished cell's distilled set stays under sets/<hash>/ (the
    resumed cell's the same images as the uninterrupted one's), and does not change the hash either."""
    import coredistill.methods.loop as loop
    from coredistill import DistilledSet

    spec = {"name": "ck", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0], "methods": ["dm"],
            "variants": ["baseline"], "method_options": {"dm": {"iterations": 6}}}
    plain = run_grid(Grid.from_dict({**spec, "keep_sets": True}), tmp_path / "plain", jobs=0, log=lambda _: None)
    grid = Grid.from_dict({**spec, "checkpoint_every": 2, "keep_sets": True})
    assert [c.hash for c in grid.cells()] == list(plain) == [c.hash for c in Grid.from_dict(spec).cells()]

    saves = []
    real_save = loop.save_checkpoint

    def stop_after_second_save(folder, state):
        real_save(folder, state)
        saves.append(state["iteration"])
        if len(saves) == 2:
            raise RuntimeError("stopped")  # as if the session ended here

    monkeypatch.setattr(loop, "save_checkpoint", stop_after_second_save)
    logs = []
    assert run_grid(grid, tmp_path / "ck", jobs=0, log=logs.append) == {}
    assert "stopped" in "\n".join(logs) and saves == [2, 4]
    from coredistill.bench.runner import progress
    from coredistill.folder_lock import exclusive

    seconds = torch.load(tmp_path / "ck" / "checkpoints" / grid.cells()[0].hash / "checkpoint.pt",
                         weights_only=True)["log"]["seconds"]
    assert progress(grid, tmp_path / "ck", {}) == [
        "no run is writing this folder",
        f"digits ipc 1 seed 0 dm/baseline: checkpointed at iteration 4 of 6, {seconds:.0f} s of distillation "
        f"(about {seconds / 4 * 2:.0f} s more at its pace so far)"]
    with exclusive(tmp_path / "ck", "out"):
        assert progress(grid, tmp_path / "ck", {})[0].startswith(f"written now by process {os.getpid()} (")
    later = []
    monkeypatch.setattr(loop, "save_checkpoint", lambda folder, state: (later.append(state["iteration"]),
                                                                       real_save(folder, state)))
    done = run_grid(grid, tmp_path / "ck", jobs=0, log=lambda _: None)
    assert later == [6]  # it went on from iteration 4 (a restart would have saved at 2 and 4 again) to the last
    (rec,) = done.values()
    assert rec["accuracies"] == next(iter(plain.values()))["accuracies"]
    assert rec["resumed_from"] == 4 and next(iter(plain.values()))["resumed_from"] is None
    assert not any((tmp_path / "ck" / "checkpoints").iterdir())
    assert progress(grid, tmp_path / "ck", done) == ["no run is writing this folder"]
    kept, uninterrupted = (DistilledSet.load(tmp_path / folder / "sets" / rec["hash"]) for folder in ("ck", "plain"))
    assert kept.images.shape == (10, 1, 8, 8) and torch.equal(kept.images, uninterrupted.images)
    assert torch.equal(kept.labels, uninterrupted.labels) and kept.manifest["log"]["resumed_from"] == 4


def test_progress_names_a_part_built_expert_buffer_and_the_epoch_of_its_expert_in_training(tmp_path):
    from coredistill.bench.runner import expert_folder, progress
    from coredistill.methods.checkpoint import save_checkpoint
    from coredistill.methods.experts import expert_file, partial_folder

    grid = Grid.from_dict({"name": "mtt", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["mtt"], "variants": ["baseline"], "experts": {"num_experts": 3}})
    spec = grid.cells()[0].experts
    folder = expert_folder(tmp_path, spec)
    folder.mkdir(parents=True)
    expert_file(folder, 0).write_bytes(b"")  # expert 0 written, expert 1 stopped after its first epoch
    partial_folder(folder, 1).mkdir()
    save_checkpoint(partial_folder(folder, 1), {"config": {}, "iteration": 1})
    assert progress(grid, tmp_path, {})[1:] == [
        f"1 cell(s) without a checkpoint: {grid.cells()[0].label()}",
        f"experts {spec.folder_name}: 1 of 3 written; expert 1 at epoch 1 of {spec.preset.experts['epochs']}"]


def test_cli_bench_status_says_how_far_a_grid_is_and_writes_nothing(tmp_path, capsys):
    """--status: finished cells counted by hash, a checkpointed cell's iteration with the evaluation it has begun
    (nets tested so far; a finished curve point's leftover file is not "under way"), the cells without a checkpoint
    by name; no file is created or changed."""
    import yaml

    from coredistill.bench.runner import checkpoint_folder
    from coredistill.methods.checkpoint import EvalProgress, save_checkpoint

    spec = {"name": "st", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0, 1, 2],
            "methods": ["dm"], "variants": ["baseline"], "method_options": {"dm": {"iterations": 6}},
            "curve_nets": 2}
    path = tmp_path / "st.yaml"
    path.write_text(yaml.safe_dump(spec))
    grid = Grid.load(path)
    first, second, third = grid.cells()
    out = tmp_path / "out"
    run_grid(grid, out, jobs=0, only={"seed": {"0"}}, log=lambda _: None)
    folder = checkpoint_folder(out, second)
    save_checkpoint(folder, {"config": {}, "iteration": 4, "log": {"seconds": 8.0,
                                                                   "curve": [{"iteration": 2, "accuracy": 0.5}]}})
    EvalProgress(folder, "curve-2", {}).record(0, 0.5)  # the finished curve point's file stays behind
    EvalProgress(folder, "curve-4", {}).record(1, 0.625)
    before = {f: f.stat().st_mtime_ns for f in out.rglob("*")}
    assert main(["bench", "--grid", str(path), "--out", str(out), "--status"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"grid st: 1 of 3 cells finished in {out}",
        "no run is writing this folder",
        f"{second.label()}: checkpointed at iteration 4 of 6, 8 s of distillation (about 4 s more at its pace so "
        "far); curve 50.00 % at 2; evaluating: curve-4 1 of 2 nets tested (62.50 %)",
        f"1 cell(s) without a checkpoint: {third.label()}"]
    assert {f: f.stat().st_mtime_ns for f in out.rglob("*")} == before
    with pytest.raises(SystemExit):  # argparse's usage error: one way to look at a folder per call
        main(["bench", "--grid", str(path), "--out", str(out), "--status", "--report-only"])
    assert "--report-only: not allowed with argument --status" in capsys.readouterr().err


_POOL_THEN_DIE = """
import os, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from coredistill.bench.runner import _exit_with_parent
pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                           initializer=_exit_with_parent if sys.argv[1] == "watch" else None)
open(sys.argv[2], "w").write(str(pool.submit(os.getpid).result()))
pool.submit(time.sleep, 60)
time.sleep(0.5)
os._exit(0)  # the grid process killed: no shutdown of the pool
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # an exited orphan its new parent has not reaped yet is a zombie: ended
    try:
        return not stat.is_file() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="re-parenting of orphans is POSIX")
@pytest.mark.parametrize("mode", ["watch", "plain"])
def test_a_killed_grids_workers_end_with_it_instead_of_running_on_as_orphans(mode, tmp_path):
    # "plain" is the control: a pool worker in the middle of a cell outlives its dead parent. No pipes to the
    # script: an orphan holding them would keep the wait for their end open
    subprocess.run([sys.executable, "-c", _POOL_THEN_DIE, mode, str(tmp_path / "pid")], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
    worker = int((tmp_path / "pid").read_text())
    try:
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(worker) == (mode == "plain")
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
