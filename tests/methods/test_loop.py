import os
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

from coredistill.artifacts import DistilledSet
from coredistill.methods import Context, LoopSettings, Method, RealData, run_loop
from coredistill.methods.checkpoint import CHECKPOINT, NEXT, PREVIOUS
from coredistill.errors import CheckpointError, DivergenceError, InvalidParameterError
from coredistill.pipeline import distill
from coredistill.sampling import create_sampler

RUN = ["distill", "--dataset", "digits", "--method", "dm", "--ipc", "2", "--preset", "tiny", "--iterations", "40",
       "--no-eval", "--quiet", "--checkpoint-every", "5"]


def _cli(*args):
    return [sys.executable, "-m", "coredistill", *args]


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical(tmp_path, monkeypatch):
    from coredistill.cli import main

    env = {**os.environ, "COREDISTILL_DATA": str(tmp_path / "data")}
    ref = tmp_path / "ref"
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path / "data"))
    assert main([*RUN, "--out", str(ref)]) == 0  # the uninterrupted reference, in this process
    out = tmp_path / "run"
    proc = subprocess.Popen(_cli(*RUN, "--out", str(out)), env=env)
    ckpt = tmp_path / "run.ckpt" / CHECKPOINT
    deadline = time.time() + 120
    while not (ckpt.exists() and (tmp_path / "run.ckpt" / PREVIOUS).exists()) and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    killed_at = torch.load(ckpt, weights_only=True)["iteration"]
    assert 5 <= killed_at < 40
    subprocess.run(_cli(*RUN, "--out", str(out), "--resume"), check=True, env=env)
    a, b = DistilledSet.load(ref), DistilledSet.load(out)
    assert torch.equal(a.images, b.images)
    assert b.manifest["log"]["resumed_from"] == killed_at
    assert a.manifest["log"]["loss"] == b.manifest["log"]["loss"]
    assert not (tmp_path / "run.ckpt").exists()  # removed once the artifact is saved


def _small(digits, tmp_path, **kw):
    args = dict(ipc=1, method="dm", preset="tiny", iterations=6, evaluate_with=(), progress=False,
                checkpoint_dir=tmp_path / "ck", checkpoint_every=2)
    return distill(digits, **{**args, **kw})


def test_resume_refuses_another_runs_checkpoint_and_unreadable_ones(digits, tmp_path):
    _small(digits, tmp_path, iterations=5)  # leaves checkpoints at 4 and 5 (the last iteration's)
    with pytest.raises(CheckpointError, match="config keys method_options.iterations, run.ipc, "
                                              "run.method_options.iterations differ"):
        _small(digits, tmp_path, ipc=2, iterations=6, resume=True)
    for name in (CHECKPOINT, PREVIOUS):
        (tmp_path / "ck" / name).write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read .*checkpoint.pt: .*checkpoint.prev.pt: "):
        _small(digits, tmp_path, iterations=5, resume=True)


def test_a_checkpoint_folder_another_run_is_writing_is_refused(digits, tmp_path):
    from coredistill.folder_lock import exclusive

    with exclusive(tmp_path / "ck", "checkpoint_dir"):  # as a first run resuming these checkpoints holds them
        with pytest.raises(InvalidParameterError, match=rf"checkpoint_dir='{tmp_path / 'ck'}': expected a folder no "
                                                        rf"other process is writing: process {os.getpid()} "):
            _small(digits, tmp_path, resume=True)
    assert _small(digits, tmp_path, resume=True).manifest["log"]["resumed_from"] is None  # free again


def test_a_checkpoint_read_from_another_data_path_resumes(digits, tmp_path):
    # committed checkpoints travel between clones; older ones recorded the data's read path in their config
    import dataclasses

    reference = _small(digits, tmp_path / "ref", iterations=5)
    _small(digits, tmp_path, iterations=5)  # checkpoint.prev.pt at 4, checkpoint.pt at 5
    path = tmp_path / "ck" / CHECKPOINT
    os.replace(tmp_path / "ck" / PREVIOUS, path)  # as a run stopped in its last iteration leaves them
    state = torch.load(path, weights_only=True)
    assert "source" not in state["config"]["dataset"]  # the data's identity is its content, not its path
    state["config"]["dataset"]["source"] = "/elsewhere/digits"  # as an older checkpoint recorded it, with
    state["config"]["dataset"]["mean"] = [m * (1 + 3e-8) for m in state["config"]["dataset"]["mean"]]  # float32 sums
    torch.save(state, path)
    moved = dataclasses.replace(digits, source="/another/clone/digits")
    resumed = _small(moved, tmp_path, iterations=5, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 4
    assert torch.equal(resumed.images, reference.images)
    for key, other in (("fingerprint", "0" * 16), ("mean", [0.5])):  # other images, another normalization
        torch.save({**state, "config": {**state["config"], "dataset": {**state["config"]["dataset"], key: other}}},
                   path)
        with pytest.raises(CheckpointError, match=f"dataset.{key} differ"):
            _small(digits, tmp_path, iterations=5, resume=True)


@pytest.mark.parametrize("state", ["killed between the renames", "killed before the renames", "current torn"])
def test_resume_takes_the_newest_complete_checkpoint_of_the_rotation_and_says_so(digits, tmp_path, state):
    reference = _small(digits, tmp_path / "ref", iterations=5)
    _small(digits, tmp_path, iterations=5)  # checkpoint.pt at 5 (the last iteration), checkpoint.prev.pt at 4
    ck = tmp_path / "ck"
    if state == "killed between the renames":  # current -> previous done, next -> current not yet
        (ck / PREVIOUS).unlink()
        (ck / CHECKPOINT).rename(ck / PREVIOUS)
        shutil.copy(ck / PREVIOUS, ck / NEXT)
        expected_file, expected_iteration = NEXT, 5
    elif state == "killed before the renames":  # the next file is complete, nothing renamed
        shutil.copy(ck / CHECKPOINT, ck / NEXT)
        expected_file, expected_iteration = CHECKPOINT, 5  # equal iterations: either is the same state
    else:
        (ck / CHECKPOINT).write_bytes(b"torn")
        expected_file, expected_iteration = PREVIOUS, 4  # and the last iteration runs again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = _small(digits, tmp_path, iterations=5, resume=True)
    log = resumed.manifest["log"]
    assert log["resumed_from"] == expected_iteration and log["resumed_from_file"] in (expected_file, NEXT)
    if log["resumed_from_file"] != CHECKPOINT:
        assert any("resumed from" in str(w.message) for w in caught)
    assert torch.equal(resumed.images, reference.images)  # the same result as the run never interrupted


def test_a_planted_checkpoint_cannot_run_code(digits, tmp_path):
    _small(digits, tmp_path, iterations=5)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": 3, "iteration": 99, "images": Payload()}, tmp_path / "ck" / CHECKPOINT)
    with pytest.warns(UserWarning, match=r"resumed from checkpoint.prev.pt at iteration 4 .*checkpoint.pt: it holds "
                                         r"a Python object \(\w+\.system\)"):
        resumed = _small(digits, tmp_path, iterations=5, resume=True)  # the planted file is skipped, not executed
    assert not marker.exists() and resumed.manifest["log"]["resumed_from_file"] == PREVIOUS


class _Diverges(Method):
    lr_images = 0.1
    iterations = 6

    def __init__(self):
        self._calls = 0

    def losses(self, syn, labels, ctx):
        self._calls += 1
        yield (syn ** 2).sum() * (float("nan") if self._calls == 4 else 1.0)


def test_nan_loss_stops_with_clear_error_and_keeps_last_good_checkpoint(tmp_path):
    labels = np.repeat([0, 1], 3)
    s = create_sampler("uniform")
    s.setup(labels, 2)
    ctx = Context(RealData(torch.zeros(6, 1, 4, 4), torch.as_tensor(labels), None), 2, 1, s,
                  np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))
    settings = LoopSettings(iterations=6, checkpoint_dir=tmp_path, checkpoint_every=1)
    with pytest.raises(DivergenceError, match="loss=nan at iteration 4"):
        run_loop(_Diverges(), torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), ctx, settings, progress=False)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    assert state["iteration"] == 3 and torch.isfinite(state["images"]).all()


def test_bad_iterations_and_names(digits):
    for bad in (0, -2):
        with pytest.raises(InvalidParameterError, match=f"iterations={bad}: expected a positive integer"):
            distill(digits, ipc=1, method="dm", preset="tiny", iterations=bad, evaluate_with=(), progress=False)
    with pytest.raises(InvalidParameterError, match="sampler='loss'.*uniform"):
        distill(digits, ipc=1, method="dm", sampler="loss", preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="method='gm'.*dm, dc, dsa, kip, rfad, mtt"):
        distill(digits, ipc=1, method="gm", preset="tiny", progress=False)


@pytest.mark.parametrize("method", ["dm", "dc", "dsa"])
def test_every_method_learns_something_and_is_deterministic(method, digits):
    a = distill(digits, ipc=1, method=method, preset="tiny", evaluate_with=(), progress=False, seed=3)
    b = distill(digits, ipc=1, method=method, preset="tiny", evaluate_with=(), progress=False, seed=3)
    assert torch.equal(a.images, b.images)
    real = distill(digits, ipc=1, method="none", preset="tiny", evaluate_with=(), progress=False, seed=3)
    assert not torch.equal(a.images, real.images)  # the images moved
    assert a.manifest["initializer"]["indices"] == real.manifest["initializer"]["indices"]
    assert len(a.manifest["log"]["loss"]) == a.manifest["method"]["options"]["iterations"]


class _LabelsDiverge(Method):
    lr_images = 0.1
    iterations = 3

    def setup(self, images, labels, ctx):
        self._t = torch.ones((), requires_grad=True)

    def extra_parameters(self):
        return [{"params": [self._t], "lr": float("inf")}]

    def losses(self, syn, labels, ctx):
        yield (syn ** 2).sum() * 0 + self._t ** 2


def test_non_finite_learned_parameter_is_named():
    labels = np.repeat([0, 1], 3)
    s = create_sampler("uniform")
    s.setup(labels, 2)
    ctx = Context(RealData(torch.zeros(6, 1, 4, 4), torch.as_tensor(labels), None), 2, 1, s,
                  np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))
    with pytest.raises(DivergenceError, match="learned parameter of _LabelsDiverge .* iteration 1"):
        run_loop(_LabelsDiverge(), torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), ctx, LoopSettings(iterations=3),
                 progress=False)


class _Quadratic(Method):
    lr_images = 0.1

    def losses(self, syn, labels, ctx):
        yield (syn ** 2).sum()


@pytest.mark.parametrize("iterations, every, points", [(7, 3, [3]), (8, 3, [3, 6]), (750, 187, [187, 374, 561]),
                                                       (4, 1, [1, 2, 3])])
def test_curve_points_stop_short_of_the_final_evaluation(iterations, every, points):
    # evaluation every `every` iterations, except within half of that of the end, where the final evaluation
    # (the caller's) stands for it: 750 iterations every 187 evaluate at 187, 374, 561, not again at 748
    labels = np.repeat([0, 1], 3)
    s = create_sampler("uniform")
    s.setup(labels, 2)
    ctx = Context(RealData(torch.zeros(6, 1, 4, 4), torch.as_tensor(labels), None), 2, 1, s,
                  np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))
    seen = []
    out = run_loop(_Quadratic(), torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), ctx,
                   LoopSettings(iterations=iterations, eval_every=every),
                   evaluate=lambda images, it: seen.append(it) or 0.5, progress=False)
    assert seen == points and [c["iteration"] for c in out.log["curve"]] == points


class _Positions(Method):
    """Records the loop's position as each iteration's losses() sees it."""
    lr_images = 0.1

    def __init__(self):
        self.seen = []

    def losses(self, syn, labels, ctx):
        self.seen.append((ctx.iteration, ctx.iterations))
        yield (syn ** 2).sum()


def test_a_method_sees_the_loops_position_also_after_a_resume(tmp_path):
    labels = np.repeat([0, 1], 3)

    def context():
        s = create_sampler("uniform")
        s.setup(labels, 2)
        return Context(RealData(torch.zeros(6, 1, 4, 4), torch.as_tensor(labels), None), 2, 1, s,
                       np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))

    whole = _Positions()
    run_loop(whole, torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), context(), LoopSettings(iterations=5), progress=False)
    assert whole.seen == [(i, 5) for i in range(5)]
    run_loop(_Positions(), torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), context(),
             LoopSettings(iterations=3, checkpoint_dir=tmp_path, checkpoint_every=1, config={"a": 1}), progress=False)
    resumed = _Positions()
    run_loop(resumed, torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), context(),
             LoopSettings(iterations=5, checkpoint_dir=tmp_path, checkpoint_every=1, config={"a": 1}, resume=True),
             progress=False)
    assert resumed.seen == [(i, 5) for i in range(3, 5)]  # the checkpoint at the 3-iteration run's last iteration


class _Doubled(Method):
    """Images parameterized as twice the optimized tensor."""

    lr_images = 0.01

    def images_of(self, syn):
        return 2 * syn

    def losses(self, syn, labels, ctx):
        yield ((self.images_of(syn) - 1.0) ** 2).sum()


def test_the_loop_evaluates_scores_and_returns_the_images_a_reparameterized_method_stands_for():
    labels = np.repeat([0, 1], 3)
    s = create_sampler("uniform")
    s.setup(labels, 2)
    scored = []
    s.update = lambda **kw: scored.append(kw["images"].clone())
    ctx = Context(RealData(torch.zeros(6, 1, 4, 4), torch.as_tensor(labels), None), 2, 1, s,
                  np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))
    evaluated = []
    out = run_loop(_Doubled(), torch.ones(2, 1, 4, 4), torch.tensor([0, 1]), ctx,
                   LoopSettings(iterations=4, eval_every=2), progress=False,
                   evaluate=lambda images, it: evaluated.append(images.clone()) or 0.5)
    # SGD (momentum 0.5, lr 0.01) on (2x - 1)² from x = 1, by hand: the loop must hand out 2x, never x
    x, v, expected = 1.0, 0.0, [2.0]
    for _ in range(4):
        v = 0.5 * v + 4 * (2 * x - 1)
        x -= 0.01 * v
        expected.append(2 * x)
    assert [float(t[0, 0, 0, 0]) for t in scored] == pytest.approx(expected, abs=1e-6)
    assert len(evaluated) == 1 and float(evaluated[0][0, 0, 0, 0]) == pytest.approx(expected[2], abs=1e-6)
    assert torch.allclose(out.images, torch.full((2, 1, 4, 4), expected[4]))
