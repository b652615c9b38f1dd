"""MTT: the trajectory loss, gradients to images and step size, the expert buffer, resume of a killed build."""
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.func import functional_call

from coredistill.cli import main
from coredistill.errors import CheckpointError, InvalidParameterError
from coredistill.methods import Context, RealData, create_method
from coredistill.methods.experts import ExpertBuffer, expert_file
from coredistill.methods.mtt import start_epoch_bounds, trajectory_loss
from coredistill.pipeline import distill, train_experts
from coredistill.presets import PRESETS
from coredistill.sampling import create_sampler


@pytest.fixture(scope="module")
def buffer(tmp_path_factory, digits):
    folder = tmp_path_factory.mktemp("experts")
    train_experts(digits, folder, num_experts=2, preset="tiny", progress=False)
    return folder


def _real_and_context(digits):
    x = digits.normalizer()(digits.train_float())
    s = create_sampler("uniform")
    s.setup(digits.y_train.numpy(), 10)
    return x, Context(RealData(x, digits.y_train, digits), 10, 1, s, np.random.default_rng(0),
                      torch.Generator().manual_seed(0), torch.device("cpu"), "ConvNet", {"width": 32})


def test_trajectory_loss_formula_and_zero_at_the_target():
    g = torch.Generator().manual_seed(0)
    start, target, student = (torch.randn(7, generator=g) for _ in range(3))
    expected = ((student - target) ** 2).sum() / ((start - target) ** 2).sum()
    assert torch.allclose(trajectory_loss(student, start, target), expected)
    assert trajectory_loss(target.clone(), start, target) == 0


def test_buffer_round_trips_and_trajectories_move(buffer, digits):
    b = ExpertBuffer(buffer)
    assert len(b) == 2 and b.epochs == 2
    t = b.trajectory(0)
    n_params = sum(int(np.prod(s)) for _, s in b.manifest["params"])
    assert t.shape == (3, n_params) and t.dtype == torch.float32
    assert not torch.equal(t[0], t[1]) and not torch.equal(b.trajectory(0), b.trajectory(1))
    assert b.manifest["config"]["dataset"]["name"] == "digits"


def test_killed_build_resumes_at_the_first_missing_expert(buffer, digits, tmp_path):
    import shutil

    copy = tmp_path / "partial"
    shutil.copytree(buffer, copy)
    kept = torch.load(expert_file(copy, 0), weights_only=True)
    expert_file(copy, 1).unlink()  # as if killed while training expert 1
    train_experts(digits, copy, num_experts=2, preset="tiny", progress=False)
    assert torch.equal(torch.load(expert_file(copy, 0), weights_only=True), kept)  # not retrained
    assert torch.equal(torch.load(expert_file(copy, 1), weights_only=True),
                       torch.load(expert_file(buffer, 1), weights_only=True))  # retrained identically
    seconds = json.loads((copy / "manifest.json").read_text())["seconds"]
    assert set(seconds) == {"0", "1"} and all(s > 0 for s in seconds.values())  # expert 0's time survives resume
    with pytest.raises(CheckpointError, match="another config.*epochs"):
        train_experts(digits, copy, num_experts=2, epochs=3, preset="tiny", progress=False)


class _Killed(Exception):
    pass


def test_one_builder_at_a_time_and_a_built_buffer_is_read_side_by_side(buffer, digits, tmp_path):
    import shutil

    from coredistill.folder_lock import exclusive

    copy = tmp_path / "partial"
    shutil.copytree(buffer, copy)
    expert_file(copy, 1).unlink()
    with exclusive(copy, "folder"):  # another process is training the missing expert
        with pytest.raises(InvalidParameterError, match=r"folder='.*partial': expected a folder no other process"):
            train_experts(digits, copy, num_experts=2, preset="tiny", progress=False)
        assert not expert_file(copy, 1).exists()
    with exclusive(buffer, "folder"):  # complete: nothing to write, so nothing to wait for
        assert train_experts(digits, buffer, num_experts=2, preset="tiny", progress=False) == Path(buffer)


@pytest.mark.parametrize("sampler,options", [("uniform", {}), ("relative-loss", {"refresh": 1, "weighted": True})])
def test_a_build_killed_mid_expert_resumes_at_its_last_epoch(digits, tmp_path, monkeypatch, sampler, options):
    # an expert is hours at the reproduce preset: a kill after epoch 2 of 3 must not lose those epochs, and the
    # resumed expert must be the one an uninterrupted build trains (net, optimizer, sampler and both generators)
    from coredistill.methods import experts

    kw = dict(num_experts=1, epochs=3, preset="tiny", sampler=sampler, sampler_options=options, progress=False)
    whole = ExpertBuffer(train_experts(digits, tmp_path / "whole", **kw))
    save, epochs_trained = experts.save_checkpoint, []

    def killed_after_two_epochs(folder, state):
        save(folder, state)
        if state["iteration"] == 2:
            raise _Killed

    monkeypatch.setattr(experts, "save_checkpoint", killed_after_two_epochs)
    with pytest.raises(_Killed):
        train_experts(digits, tmp_path / "killed", **kw)
    monkeypatch.setattr(experts, "save_checkpoint", save)
    partial = experts.partial_folder(tmp_path / "killed", 0)
    assert not expert_file(tmp_path / "killed", 0).exists() and partial.is_dir()
    flat = experts._flat
    monkeypatch.setattr(experts, "_flat", lambda net: epochs_trained.append(1) or flat(net))
    resumed = ExpertBuffer(train_experts(digits, tmp_path / "killed", **kw))
    assert len(epochs_trained) == 1  # only the third epoch trained again (no snapshot of a fresh net either)
    assert torch.equal(resumed.trajectory(0), whole.trajectory(0))
    assert not partial.exists()  # the expert's file replaces its checkpoint
    assert resumed.manifest["seconds"]["0"] > 0
    # another expert config finds the leftover checkpoint of this one and refuses it by name
    monkeypatch.setattr(experts, "save_checkpoint", killed_after_two_epochs)
    with pytest.raises(_Killed):
        train_experts(digits, tmp_path / "other", **kw)
    monkeypatch.setattr(experts, "save_checkpoint", save)
    with pytest.raises(CheckpointError, match="different run: config keys seed differ"):
        train_experts(digits, tmp_path / "other", **kw, seed=1)


def test_a_buffer_read_from_another_path_is_the_same_buffer(buffer, digits, tmp_path):
    # committed buffers travel between clones: the data's location is not its identity (its content fingerprint is)
    import shutil

    copy = tmp_path / "moved"
    shutil.copytree(buffer, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    assert "source" not in manifest["config"]["dataset"]
    manifest["config"]["dataset"]["source"] = "/elsewhere/digits"  # as older buffers recorded their data's path
    (copy / "manifest.json").write_text(json.dumps(manifest))
    kept = [torch.load(expert_file(copy, i), weights_only=True) for i in (0, 1)]
    expert_file(copy, 1).unlink()
    train_experts(digits, copy, num_experts=2, preset="tiny", progress=False)  # resumes: no config error
    assert torch.equal(torch.load(expert_file(copy, 0), weights_only=True), kept[0])
    assert torch.equal(torch.load(expert_file(copy, 1), weights_only=True), kept[1])
    manifest["config"]["dataset"]["fingerprint"] = "0" * 16  # other images: another buffer
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="another config.*dataset.fingerprint"):
        train_experts(digits, copy, num_experts=2, preset="tiny", progress=False)


def test_gradients_reach_images_and_step_size(buffer, digits):
    x, ctx = _real_and_context(digits)
    m = create_method("mtt", experts=str(buffer), syn_steps=3, expert_epochs=1, max_start_epoch=1)
    syn = x[:10].clone().requires_grad_(True)
    labels = digits.y_train[:10]
    m.setup(syn, labels, ctx)
    loss = next(m.losses(syn, labels, ctx))
    loss.backward()
    assert syn.grad is not None and syn.grad.abs().sum() > 0
    assert m._lr.grad is not None and m._lr.grad != 0


def test_checkpoint_memory_mode_gives_the_same_losses(buffer, digits):
    base = dict(ipc=1, method="mtt", preset="tiny", evaluate_with=(), progress=False)
    a = distill(digits, **base, method_options={"experts": str(buffer)})
    b = distill(digits, **base, method_options={"experts": str(buffer), "memory": "checkpoint"})
    assert np.allclose(a.manifest["log"]["loss"], b.manifest["log"]["loss"], rtol=1e-5)
    assert a.learned_lr is not None and a.learned_lr != 0.01  # the step size is learned


def test_cli_experts_then_distill(capsys, tmp_path):
    assert main(["experts", "--dataset", "digits", "--num-experts", "1", "--preset", "tiny", "--quiet",
                 "--out", str(tmp_path / "buf")]) == 0
    assert "1 experts of 2 epochs" in capsys.readouterr().out
    assert main(["distill", "--dataset", "digits", "--ipc", "1", "--method", "mtt", "--experts",
                 str(tmp_path / "buf"), "--preset", "tiny", "--quiet", "--no-eval", "--out", str(tmp_path / "a")]) == 0
    m = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert m["method"]["options"]["experts"] == str(tmp_path / "buf")


def test_a_larger_buffer_starts_from_a_smaller_ones_experts_and_ends_as_a_fresh_build(digits, tmp_path):
    # expert i's seed is the i-th child of the build's seed, whatever the count: copying it is training it
    kw = dict(preset="tiny", progress=False)
    small = train_experts(digits, tmp_path / "small", num_experts=1, **kw)
    grown = train_experts(digits, tmp_path / "grown", num_experts=2, seed_from=[small, tmp_path / "absent"], **kw)
    fresh = train_experts(digits, tmp_path / "fresh", num_experts=2, **kw)
    assert expert_file(grown, 0).read_bytes() == expert_file(small, 0).read_bytes()
    for i in range(2):
        assert torch.equal(ExpertBuffer(grown).trajectory(i), ExpertBuffer(fresh).trajectory(i))
    # a buffer of another config holds other trajectories: passed over, its expert trained here instead
    longer = train_experts(digits, tmp_path / "longer", num_experts=1, epochs=3, seed_from=[small], **kw)
    assert ExpertBuffer(longer).trajectory(0).shape[0] == 4 != ExpertBuffer(small).trajectory(0).shape[0]


def test_experts_built_without_a_count_are_the_presets_count(digits, tmp_path):
    tiny = PRESETS.get("tiny")
    one = replace(tiny, experts={**tiny.experts, "num_experts": 1})
    folder = train_experts(digits, tmp_path / "one", preset=one, progress=False)
    assert len(json.loads((folder / "manifest.json").read_text())["experts"]) == 1


@pytest.mark.parametrize("options, match", [
    ({"experts": "/nonexistent"}, "experts='/nonexistent'"),
    ({"max_start_epoch": 5}, "max_start_epoch=5: expected at most 1"),
    ({"memory": "tesla"}, "memory='tesla'"),
    ({"min_start_epoch": 1}, "min_start_epoch=1: expected less than max_start_epoch=1"),
    ({"initial_max_start_epoch": 2}, "initial_max_start_epoch=2: expected above min_start_epoch=0 and at most "
                                     "max_start_epoch=1"),
    ({"expansion_iterations": 0}, "expansion_iterations=0"),
])
def test_bad_options(options, match, buffer, digits):
    opts = {"experts": str(buffer), **options}
    with pytest.raises(InvalidParameterError, match=match):
        distill(digits, ipc=1, method="mtt", preset="tiny", method_options=opts, evaluate_with=(), progress=False)


def test_a_run_without_a_buffer_builds_one_and_the_next_run_reuses_it(digits, tmp_path):
    kw = dict(ipc=1, method="mtt", preset="tiny", num_experts=1, experts_dir=tmp_path, evaluate_with=(),
              progress=False)
    a = distill(digits, sampler="relative-loss", **kw)
    folder = Path(a.manifest["method"]["options"]["experts"])
    assert folder.parent == tmp_path and folder.name == f"digits-relative-loss-{a.manifest['experts']['hash'][:8]}"
    built = ExpertBuffer(folder)
    assert len(built) == 1 and built.config["sampler"] == "relative-loss"  # the run's sampler trained the experts
    assert a.manifest["sampler"]["name"] == "uniform"  # and the loop itself draws no importance-sampled batches
    stamp = expert_file(folder, 0).stat().st_mtime_ns
    b = distill(digits, sampler="relative-loss", seed=1, **kw)
    assert b.manifest["method"]["options"]["experts"] == str(folder)
    assert expert_file(folder, 0).stat().st_mtime_ns == stamp  # reused, not retrained
    c = distill(digits, **kw)  # uniform expert batches: another buffer
    assert c.manifest["method"]["options"]["experts"] != str(folder)
    with pytest.raises(InvalidParameterError, match="experts=None: expected an expert buffer folder"):
        create_method("mtt").check()  # the method alone still needs one


def test_experts_from_another_normalization_are_refused(buffer, digits):
    with pytest.raises(InvalidParameterError, match="same normalization"):
        distill(digits, ipc=1, method="mtt", preset="tiny", zca_eps=0.1, method_options={"experts": str(buffer)},
                evaluate_with=(), progress=False)


def test_relative_loss_sampler_drives_expert_training(digits, tmp_path):
    folder = train_experts(digits, tmp_path / "rl", num_experts=1, epochs=2, preset="tiny", sampler="relative-loss",
                           sampler_options={"refresh": 1, "weighted": True}, progress=False)
    b = ExpertBuffer(folder)
    assert b.config["sampler"] == "relative-loss" and b.config["sampler_options"]["weighted"] is True
    report = b.manifest["sampler"]["0"]  # the importance diagnostics of that expert's training, one per epoch
    assert [h["iteration"] for h in report["refreshes"]] == [0, 1] and report["scoring_seconds"] > 0
    assert all(0 < c["entropy"] <= c["max_entropy"] + 1e-9 for h in report["refreshes"] for c in h["classes"])
    uniform = train_experts(digits, tmp_path / "u", num_experts=1, epochs=2, preset="tiny", progress=False)
    assert not torch.equal(b.trajectory(0), ExpertBuffer(uniform).trajectory(0))


def test_experts_can_be_trained_on_a_teachers_batches(digits, tmp_path, monkeypatch):
    # expert training passes the labels and the data's identity on: a teacher trains on them, cached by them
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    folder = train_experts(digits, tmp_path / "t", num_experts=1, epochs=1, preset="tiny", sampler="relative-loss",
                           sampler_options={"predictor": "teacher", "predictor_options": {"epochs": 1},
                                            "gamma": -1.0, "drop_hardest": 0.1}, progress=False)
    report = ExpertBuffer(folder).manifest["sampler"]["0"]
    assert len(list((tmp_path / "teachers").glob("teacher-*.pt"))) == 1
    # the hardest tenth of each class's pool is never drawn
    assert all(c["mass90_fraction"] < 0.9 for h in report["refreshes"] for c in h["classes"])


def test_a_step_size_learned_below_zero_stops_the_run_with_the_option_to_change(buffer, digits):
    """A learned step size at or below zero would make the student ascend its loss (the field's runs then end in
    NaN images): the next iteration, and the end of a run, stop with a DivergenceError naming lr_lr."""
    from coredistill.errors import DivergenceError

    x, ctx = _real_and_context(digits)
    m = create_method("mtt", experts=str(buffer), syn_steps=2, expert_epochs=1, max_start_epoch=1)
    syn, labels = x[:10].clone().requires_grad_(True), digits.y_train[:10]
    m.setup(syn, labels, ctx)
    assert torch.isfinite(next(m.losses(syn, labels, ctx)))  # the starting step size is fine
    m.load_state_dict({"lr": -0.003})
    with pytest.raises(DivergenceError, match=r"learned step size=-0.003: expected a positive step size.*lr_lr than "
                                              r"1e-05"):
        next(m.losses(syn, labels, ctx))
    with pytest.raises(DivergenceError, match="learned step size=-0.003"):
        m.finish(None, ctx)


def test_a_checkpoint_resumes_when_its_expert_buffer_lies_in_another_folder(digits, tmp_path, stopped_before_the_end):
    """The buffer is matched by its identity, not its path: a grid moved to another folder (or run from another
    checkout) still continues its checkpointed cells there."""
    import shutil

    kw = dict(ipc=1, method="mtt", preset="tiny", num_experts=1, evaluate_with=(), progress=False,
              method_options={"iterations": 4}, checkpoint_dir=tmp_path / "ckpt", checkpoint_every=2)
    whole = distill(digits, experts_dir=tmp_path / "a", **kw)
    stopped_before_the_end(tmp_path / "ckpt")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "a")
    ckpt = torch.load(tmp_path / "ckpt" / "checkpoint.pt", weights_only=True)
    assert ckpt["iteration"] == 2  # the last checkpoint before the end
    resumed = distill(digits, experts_dir=tmp_path / "b", resume=True, **kw)
    log = resumed.manifest["log"]
    assert log["resumed_from"] == 2 and log["seconds_before_resume"] > 0
    # the resumed run's distillation time counts what the checkpoint had already spent
    assert resumed.manifest["timings"]["distill_s"] > log["seconds_before_resume"]
    assert torch.equal(resumed.images, whole.images)
    with pytest.raises(CheckpointError, match="method_options.iterations"):  # a real difference is still refused
        distill(digits, experts_dir=tmp_path / "b", resume=True, **{**kw, "method_options": {"iterations": 6}})


def test_the_window_of_start_epochs_grows_linearly_from_its_initial_bound_to_the_maximum():
    # DATM's sequential generation: high = initial + floor((max - initial) * t / T), capped at max; low fixed
    kw = dict(min_start_epoch=2, max_start_epoch=12, initial_max_start_epoch=4, expansion_iterations=80)
    for t in range(0, 200, 7):
        low, high = start_epoch_bounds(t, **kw)
        assert low == 2 and high == min(4 + (12 - 4) * t // 80, 12)
    assert start_epoch_bounds(0, **kw) == (2, 4) and start_epoch_bounds(80, **kw) == (2, 12)
    highs = [start_epoch_bounds(t, **kw)[1] for t in range(100)]
    assert highs == sorted(highs)  # never shrinks
    assert start_epoch_bounds(50, min_start_epoch=3, max_start_epoch=9) == (3, 9)  # no initial bound: fixed


class _Recorded:
    """A numpy Generator that records each integers() call's arguments and result (what losses() draws)."""

    def __init__(self, seed):
        self.rng, self.calls = np.random.default_rng(seed), []

    def integers(self, *args):
        value = self.rng.integers(*args)
        self.calls.append((args, int(value)))
        return value


def test_start_epochs_follow_the_window_through_losses_and_the_default_draws_are_the_old_ones(digits, tmp_path):
    folder = train_experts(digits, tmp_path / "six", num_experts=1, epochs=6, preset="tiny", progress=False)
    x, ctx = _real_and_context(digits)
    syn, labels = x[:10].clone().requires_grad_(True), digits.y_train[:10]

    def starts(method, iterations):
        ctx.rng, ctx.iterations = _Recorded(3), iterations
        method.setup(syn, labels, ctx)
        for it in range(iterations):
            ctx.iteration = it
            next(method.losses(syn, labels, ctx))
        return ctx.rng.calls[1::2]  # each iteration draws its expert, then its start epoch

    fixed = starts(create_method("mtt", experts=str(folder), syn_steps=1, expert_epochs=1, max_start_epoch=5), 12)
    old = np.random.default_rng(3)  # what MTT drew before the window existed: integers(experts), integers(max)
    assert [e for _, e in fixed] == [int((old.integers(1), old.integers(5))[1]) for _ in range(12)]
    grow = create_method("mtt", experts=str(folder), syn_steps=1, expert_epochs=1, max_start_epoch=5,
                         min_start_epoch=1, initial_max_start_epoch=2, expansion_iterations=6)
    drawn = starts(grow, 12)
    for it, (bounds, epoch) in enumerate(drawn):
        assert bounds == start_epoch_bounds(it, min_start_epoch=1, max_start_epoch=5, initial_max_start_epoch=2,
                                            expansion_iterations=6) and bounds[0] <= epoch < bounds[1]
    assert [b for b, _ in drawn][::5] == [(1, 2), (1, 4), (1, 5)]  # easy segments first, then all of them


def test_a_growing_window_runs_and_is_logged(buffer, digits):
    # tiny preset: 2 iterations; the bound grows from 1 to max_start_epoch=1 (the buffer's 2 epochs - 1)
    r = distill(digits, ipc=1, method="mtt", preset="tiny", evaluate_with=(), progress=False,
                method_options={"experts": str(buffer), "initial_max_start_epoch": 1})
    assert r.manifest["log"]["start_epochs"] == {"first": [0, 1], "last": [0, 1]}
    plain = distill(digits, ipc=1, method="mtt", preset="tiny", evaluate_with=(), progress=False,
                    method_options={"experts": str(buffer)})
    assert "start_epochs" not in plain.manifest["log"]


def test_soft_labels_start_from_the_experts_logits_learn_and_resume(buffer, digits, tmp_path, stopped_before_the_end):
    """DATM's labels: the mean logits of the experts' final networks that classify the image correctly, learned
    through the student's soft cross-entropy; the result's soft labels are their softmax."""
    x, ctx = _real_and_context(digits)
    m = create_method("mtt", experts=str(buffer), syn_steps=3, expert_epochs=1, max_start_epoch=1, soft_labels=True)
    syn, labels = x[:20].clone().requires_grad_(True), digits.y_train[:20]
    m.setup(syn, labels, ctx)
    b = ExpertBuffer(buffer)
    logits = torch.stack([functional_call(m._net, m._unflatten(b.trajectory(e)[-1]), (x[:20],)) for e in range(2)])
    right = logits.argmax(2) == labels
    for i in range(20):  # the rule, image by image
        chosen = logits[right[:, i], i] if right[:, i].any() else logits[:, i]
        assert torch.allclose(m._label_logits[i], chosen.mean(0), atol=1e-5)
    next(m.losses(syn, labels, ctx)).backward()
    assert m._label_logits.grad is not None and m._label_logits.grad.abs().sum() > 0  # the labels learn

    kw = dict(ipc=1, method="mtt", preset="tiny", evaluate_with=(), progress=False,
              method_options={"experts": str(buffer), "soft_labels": True, "iterations": 4})
    whole = distill(digits, **kw)
    assert whole.soft_labels is not None and torch.allclose(whole.soft_labels.sum(1), torch.ones(10))
    assert set(whole.manifest["log"]["soft_labels"]) == {"initial_agreement", "final_agreement"}
    frozen = distill(digits, **{**kw, "method_options": {**kw["method_options"], "lr_labels": 1e-12}})
    assert not torch.allclose(frozen.soft_labels, whole.soft_labels, atol=1e-4)  # learning moved them
    ck = dict(checkpoint_dir=tmp_path / "ck", checkpoint_every=2)
    distill(digits, **kw, **ck)
    stopped_before_the_end(tmp_path / "ck")  # its checkpoint at iteration 2 the newest
    resumed = distill(digits, **kw, **ck, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 2
    assert torch.equal(resumed.images, whole.images) and torch.equal(resumed.soft_labels, whole.soft_labels)


def test_dropping_parameters_leaves_the_best_matched_out_of_both_sums():
    g = torch.Generator().manual_seed(0)
    start, target, student = (torch.randn(100, generator=g) for _ in range(3))
    error, distance = (student - target) ** 2, (start - target) ** 2
    keep = error.argsort()[30:]  # drop 0.3: the 30 smallest errors
    expected = error[keep].sum() / distance[keep].sum()
    assert torch.allclose(trajectory_loss(student, start, target, drop=0.3), expected)
    assert torch.equal(trajectory_loss(student, start, target, drop=0.0), trajectory_loss(student, start, target))


def test_dropped_parameters_get_no_gradient_and_the_default_keeps_old_hashes(buffer, digits):
    student = torch.tensor([1.0, 1.0, 0.5, 0.0], requires_grad=True)
    trajectory_loss(student, torch.zeros(4), torch.ones(4), drop=0.5).backward()
    assert student.grad[:2].tolist() == [0.0, 0.0] and (student.grad[2:] != 0).all()
    base = create_method("mtt", experts=str(buffer))
    assert "drop_params" not in base.options()  # stored runs keep their hashes
    assert create_method("mtt", experts=str(buffer), drop_params=0.5).options()["drop_params"] == 0.5
    with pytest.raises(InvalidParameterError, match=r"drop_params=1.0: expected a fraction in \[0, 1\)"):
        create_method("mtt", experts=str(buffer), drop_params=1.0).check()


def test_a_run_dropping_parameters_learns_and_differs_from_the_full_loss(buffer, digits):
    base = dict(ipc=1, method="mtt", preset="tiny", evaluate_with=(), progress=False)
    a = distill(digits, **base, method_options={"experts": str(buffer)})
    b = distill(digits, **base, method_options={"experts": str(buffer), "drop_params": 0.5})
    assert not np.allclose(a.manifest["log"]["loss"], b.manifest["log"]["loss"])
    assert not torch.equal(a.images, b.images)


def _experts_drawn(method, digits, iterations=20):
    """The trajectories ``method`` matches over ``iterations`` iterations (a fresh context, seed 0) and its losses."""
    x, ctx = _real_and_context(digits)
    syn, labels = x[:10].clone().requires_grad_(True), digits.y_train[:10]
    method.setup(syn, labels, ctx)
    used, read = [], method._buffer.trajectory
    method._buffer.trajectory = lambda e: (used.append(e), read(e))[1]
    ctx.iterations, losses = iterations, []
    for it in range(iterations):
        ctx.iteration = it
        losses.append(float(next(method.losses(syn, labels, ctx))))
    return used, losses


def test_max_experts_matches_only_the_buffers_first_trajectories(buffer, digits):
    opts = dict(experts=str(buffer), syn_steps=1, expert_epochs=1, max_start_epoch=1)
    every, every_losses = _experts_drawn(create_method("mtt", **opts), digits)
    assert set(every) == {0, 1}  # 20 uniform draws from 2 trajectories
    first, _ = _experts_drawn(create_method("mtt", max_experts=1, **opts), digits)
    assert set(first) == {0}
    # the whole buffer by name draws exactly what the default draws, and the default keeps stored runs' hashes
    assert _experts_drawn(create_method("mtt", max_experts=2, **opts), digits) == (every, every_losses)
    assert "max_experts" not in create_method("mtt", **opts).options()
    with pytest.raises(InvalidParameterError, match="max_experts=3: expected at most the buffer's 2 expert"):
        create_method("mtt", max_experts=3, **opts).check()
    with pytest.raises(InvalidParameterError, match="max_experts=0"):
        create_method("mtt", max_experts=0, **opts).check()
