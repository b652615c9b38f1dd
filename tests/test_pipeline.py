import numpy as np
import pytest
import torch

from coredistill import pipeline
from coredistill.config import RunConfig
from coredistill.data import ImageDataset
from coredistill.errors import InvalidParameterError
from coredistill.pipeline import distill, evaluate_artifact
from coredistill.presets import get_preset


def test_same_seed_same_set_and_metrics(digits):
    a = distill(digits, ipc=3, preset="tiny", seed=11, progress=False)
    b = distill(digits, ipc=3, preset="tiny", seed=11, progress=False)
    c = distill(digits, ipc=3, preset="tiny", seed=12, evaluate_with=(), progress=False)
    assert torch.equal(a.images, b.images)
    assert a.manifest["metrics"]["ConvNet"]["accuracies"] == b.manifest["metrics"]["ConvNet"]["accuracies"]
    assert not torch.equal(a.images, c.images)
    assert a.manifest["metrics"]["ConvNet"]["mean"] > 0.3
    assert set(a.manifest["timings"]) >= {"select_s", "distill_s", "eval_s"}


def test_evaluate_artifact_reproduces_recorded_metrics(digits):
    a = distill(digits, ipc=2, preset="tiny", seed=1, progress=False)
    again = evaluate_artifact(a, digits, progress=False)
    assert again["ConvNet"].accuracies == a.manifest["metrics"]["ConvNet"]["accuracies"]


def test_zca_pipeline_stores_the_transform(digits):
    a = distill(digits, ipc=2, preset="tiny", zca_eps=0.1, evaluate_with=("ConvNet",), progress=False)
    assert a.zca is not None and a.manifest["normalization"]["zca_eps"] == 0.1
    assert a.images_unit().min() >= 0 and a.images_unit().max() <= 1
    assert a.manifest["metrics"]["ConvNet"]["mean"] > 0.2


def test_bad_parameters_fail_before_work(digits):
    with pytest.raises(InvalidParameterError, match="ipc=500: expected at most the smallest class size"):
        distill(digits, ipc=500, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="method='dmx'"):
        distill(digits, ipc=1, method="dmx", preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="device='tpu'"):
        distill(digits, ipc=1, preset="tiny", device="tpu", progress=False)


def test_initializer_chooses_its_feature_space_and_scores_are_kept(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))  # a private feature cache
    a = distill(digits, ipc=2, init="kernel-leverage", preset="tiny", evaluate_with=(), progress=False,
                feature_options={"num_models": 1, "width": 8})
    feats = a.manifest["initializer"]["features"]
    assert feats["name"] == "kernel-rf" and feats["options"]["num_models"] == 1
    assert a.init_scores.shape == (len(digits.y_train),)
    assert len(list((tmp_path / "features").glob("kernel-rf-*.npy"))) == 1
    b = distill(digits, ipc=2, init="herding", features="random-nets", feature_options={"num_nets": 1, "width": 8},
                preset="tiny", evaluate_with=(), progress=False)
    assert b.manifest["initializer"]["features"]["name"] == "random-nets" and b.init_scores is None


def test_evaluation_augmentation_never_flips_digits(digits, monkeypatch):
    import coredistill.pipeline as pipeline

    seen = []
    real_evaluate = pipeline.evaluate

    def spy(*args, **kwargs):
        seen.append(kwargs.get("dsa_strategy"))
        return real_evaluate(*args, **{**kwargs, "epochs": 1, "nets": 1})

    monkeypatch.setattr(pipeline, "evaluate", spy)
    art = distill(digits, ipc=1, method="dm", preset="tiny", iterations=2, eval_every=1, progress=False)
    evaluate_artifact(art, digits, progress=False)
    assert len(seen) == 3 and all(s is not None and "flip" not in s for s in seen)


def test_a_set_evaluated_without_dsa_trains_under_its_data_sets_per_image_augmentation(digits, monkeypatch):
    # the field's DC protocol: a preset names a per-image augmentation per data set; it reaches every evaluation of
    # a run evaluated without DSA (curve, final, re-evaluation) and is recorded; other data sets train without it
    import coredistill.pipeline as pipeline

    seen = []
    real_evaluate = pipeline.evaluate

    def spy(*args, **kwargs):
        seen.append((kwargs.get("dsa"), kwargs.get("augment_without_dsa")))
        return real_evaluate(*args, **{**kwargs, "epochs": 1, "nets": 1})

    monkeypatch.setattr(pipeline, "evaluate", spy)
    p = get_preset("tiny").with_overrides(eval_augment={"digits": "crop_rotate"})
    art = distill(digits, ipc=1, method="dc", preset=p, iterations=2, eval_every=1, progress=False)
    assert art.record.result.augment == "crop_rotate"
    assert art.manifest["preset"]["eval_augment"] == {"digits": "crop_rotate"}
    evaluate_artifact(art, digits, preset=p, progress=False)
    assert seen == [(False, "crop_rotate")] * 3
    other = get_preset("tiny").with_overrides(eval_augment={"mnist": "crop_rotate"})
    art = distill(digits, ipc=1, method="dc", preset=other, iterations=1, progress=False)
    assert art.record.result.augment is None


def test_curve_nets_trains_fewer_nets_along_the_curve_only(digits, monkeypatch):
    import coredistill.pipeline as pipeline
    from coredistill.config import RunConfig

    nets = []
    real_evaluate = pipeline.evaluate

    def spy(*args, **kwargs):
        nets.append(kwargs.get("nets"))
        return real_evaluate(*args, **{**kwargs, "epochs": 1})

    monkeypatch.setattr(pipeline, "evaluate", spy)
    distill(digits, ipc=1, method="dm", preset="tiny", iterations=2, eval_every=1, curve_nets=1, progress=False)
    assert nets == [1, None]  # the curve's point at iteration 1: one net; the final evaluation: the preset's
    base = RunConfig.resolve("digits", 1, method="dm", preset="tiny", eval_every=1)
    assert RunConfig.resolve("digits", 1, method="dm", preset="tiny", eval_every=1, curve_nets=1).hash != base.hash
    plain = RunConfig.resolve("digits", 1, method="dm", preset="tiny")  # no curve: curve_nets changes nothing
    assert RunConfig.resolve("digits", 1, method="dm", preset="tiny", curve_nets=1).hash == plain.hash


def _planted_mislabels(digits, count: int):
    """digits with ``count`` "1"s labelled 0 (the hardest images of class 0 for any teacher), and their indices."""
    y = digits.y_train.clone()
    planted = np.flatnonzero(y.numpy() == 1)[:count]
    y[torch.from_numpy(planted)] = 0
    noisy = ImageDataset("digits", digits.x_train, y, digits.x_test, digits.y_test, digits.class_names,
                         allow_flip=False)
    return noisy, planted


def test_static_pruning_removes_each_class_hardest_by_a_teacher(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    noisy, planted = _planted_mislabels(digits, 3)
    y = noisy.y_train
    res = distill(noisy, ipc=2, preset="tiny", prune=0.05, prune_options={"epochs": 5, "lr": 0.05},
                  evaluate_with=(), progress=False)
    pruned = res.manifest["dataset"]["pruned"]
    counts = np.bincount(y.numpy(), minlength=10)
    assert pruned["dropped"] == sum(int(np.floor(0.05 * n)) for n in counts)
    assert set(planted.tolist()) <= set(pruned["dropped_indices"])  # the mislabelled ones are the first to go
    assert res.manifest["dataset"]["n_train"] == len(y) - pruned["dropped"]
    assert pruned["mean_loss_dropped"] > 5 * pruned["mean_loss_kept"]
    plain = RunConfig.resolve("digits", 2, preset="tiny")
    assert RunConfig.resolve("digits", 2, preset="tiny", prune=0.05).hash != plain.hash
    assert "prune" not in plain.identity()  # runs without pruning keep their hashes


def test_a_method_that_learns_from_experts_trains_them_on_the_pruned_split(digits, tmp_path, monkeypatch):
    # MTT sees real data only in expert training: pruning must reach the buffer, which is then its own buffer
    import json

    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    kw = dict(ipc=1, method="mtt", preset="tiny", num_experts=1, evaluate_with=(), progress=False,
              experts_dir=str(tmp_path / "experts"))
    pruned = distill(digits, prune=0.1, prune_options={"epochs": 2}, **kw)
    plain = distill(digits, **kw)
    folders = {pruned.manifest["experts"]["hash"], plain.manifest["experts"]["hash"]}
    assert len(folders) == 2 and pruned.manifest["experts"]["prune"] == [0.1, {"epochs": 2}]
    assert "prune" not in plain.manifest["experts"]  # unpruned buffers keep their hashes
    n_train = {}
    for manifest in (tmp_path / "experts").glob("*/manifest.json"):
        n_train[manifest.parent.name] = json.loads(manifest.read_text())["config"]["dataset"]["n_train"]
    assert sorted(n_train.values()) == [pruned.manifest["dataset"]["n_train"], len(digits.y_train)]
    with pytest.raises(InvalidParameterError, match="prune=0.1: expected 0 when the method trains experts on "
                                                    "ZCA-whitened data"):
        RunConfig.resolve("digits", 1, method="mtt", preset="tiny", prune=0.1, zca_eps=0.1)


def test_static_pruning_by_el2n_at_an_early_epoch(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    noisy, planted = _planted_mislabels(digits, 3)
    options = {"score": "el2n", "epochs": 2, "lr": 0.05}
    res = distill(noisy, ipc=2, preset="tiny", prune=0.05, prune_options=options, evaluate_with=(), progress=False)
    pruned = res.manifest["dataset"]["pruned"]
    assert pruned["score"] == "el2n" and pruned["teacher"]["epochs"] == 2
    assert set(planted.tolist()) <= set(pruned["dropped_indices"])
    assert pruned["mean_loss_dropped"] <= 2 ** 0.5  # EL2N is at most the distance between two one-hot vectors
    cross_entropy = RunConfig.resolve("digits", 2, preset="tiny", prune=0.05, prune_options={"epochs": 2, "lr": 0.05})
    assert RunConfig.resolve("digits", 2, preset="tiny", prune=0.05, prune_options=options).hash != cross_entropy.hash
    with pytest.raises(InvalidParameterError, match="score"):
        distill(noisy, ipc=2, preset="tiny", prune=0.05, prune_options={"score": "forgetting"}, evaluate_with=(),
                progress=False)


def test_teacher_correct_filter_chooses_initial_images_the_teacher_gets_right(digits, tmp_path, monkeypatch):
    """init_filter="teacher-correct": every initial image is one the teacher classifies correctly (mislabelled
    images planted in the train split are never chosen, even by an initializer that would favour them), the
    run still distills from every image, and the manifest says how many candidates there were."""
    import coredistill.pruning as pruning

    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    noisy, planted = _planted_mislabels(digits, 20)
    y = noisy.y_train
    options = {"epochs": 5, "lr": 0.05}
    res = distill(noisy, ipc=5, preset="tiny", init="k-center", init_filter="teacher-correct",
                  init_filter_options=options, evaluate_with=(), progress=False)
    data = pipeline.prepare(noisy, None)
    _, predicted, _ = pruning.teacher_scores(data.train_x, y, 10, get_preset("tiny"), data.identity,
                                             torch.device("cpu"), options)
    chosen = np.asarray(res.manifest["initializer"]["indices"])
    assert (predicted[chosen] == y.numpy()[chosen]).all()
    assert not set(chosen.tolist()) & set(planted.tolist())
    candidates = res.manifest["initializer"]["candidates"]
    assert candidates["name"] == "teacher-correct" and candidates["of"] == len(y)
    assert candidates["candidates"] == int((predicted == y.numpy()).sum()) and candidates["classes_below_ipc"] == []
    assert res.manifest["dataset"]["n_train"] == len(y)  # distillation sees every image
    assert "init_filter" not in RunConfig.resolve("digits", 2, preset="tiny").identity()


def test_a_class_the_teacher_gets_wrong_keeps_its_lowest_loss_images(digits, monkeypatch):
    import coredistill.pruning as pruning

    n = len(digits.y_train)
    losses = np.arange(n, dtype=float)[::-1].copy()  # later rows have lower loss
    predicted = digits.y_train.numpy().copy()
    predicted[predicted == 3] = 4  # the teacher gets all of class 3 wrong
    monkeypatch.setattr(pruning, "teacher_scores", lambda *a, **k: (losses, predicted, pruning.Teacher()))
    rows, how = pruning.teacher_correct(None, digits.y_train, 10, 2, get_preset("tiny"), {}, torch.device("cpu"))
    threes = np.flatnonzero(digits.y_train.numpy() == 3)
    assert how["classes_below_ipc"] == [3] and set(rows[np.isin(rows, threes)].tolist()) == set(threes[-2:].tolist())


def test_the_datas_identity_is_its_content_not_its_path(digits):
    # what the teacher and feature caches, expert buffers and checkpoints are keyed by: the same images read from
    # another clone or data folder are the same data; other images are not
    import dataclasses

    from coredistill.pipeline import dataset_identity

    here = dataset_identity(digits, None)
    assert dataset_identity(dataclasses.replace(digits, source="/another/clone/digits"), None) == here
    relabelled = dataclasses.replace(digits, y_train=digits.y_train.roll(1))
    assert dataset_identity(relabelled, None)["fingerprint"] != here["fingerprint"]
    assert dataset_identity(digits, 0.1) != here


def test_rfad_finite_evaluation_trains_on_the_labels_a_kernel_method_learned(digits):
    from coredistill.centered_eval import evaluate_centered, validation_indices
    from coredistill.pipeline import evaluate_artifact_centered, prepare_real

    art = distill(digits, ipc=1, method="rfad", preset="tiny", method_options={"learn_labels": True},
                  evaluate_with=(), progress=False)
    learned = torch.tensor(art.manifest["log"]["learned_labels"], dtype=torch.float32)
    assert learned.shape == (10, 10)
    settings = dict(lr=0.01, weight_decay=0.0, label_scale=8.0, width=8, max_steps=30, validate_every=10)
    got = evaluate_artifact_centered(art, digits, val_per_class=5, seed=1, progress=False, **settings)
    train, test = prepare_real(digits, None)
    val = validation_indices(digits.y_train, 5, 10, 1)
    want = evaluate_centered(art.images, learned, train[val], digits.y_train[val], test, digits.y_test,
                             num_classes=10, seed=1, progress=False, **settings)
    assert got.accuracies == want.accuracies and got.settings["targets"] == "given (soft / learned)"


def test_a_run_stopped_in_its_final_evaluation_resumes_there_with_the_nets_left(digits, tmp_path):
    import json

    from coredistill.methods.checkpoint import EVALS

    kw = dict(ipc=1, method="dm", preset="tiny", iterations=3, eval_every=2, progress=False,
              checkpoint_dir=tmp_path / "ck", checkpoint_every=2)
    whole = distill(digits, **kw)
    assert sorted(p.name for p in (tmp_path / "ck" / EVALS).iterdir()) == ["curve-2.json", "final-ConvNet.json"]
    ledger = tmp_path / "ck" / EVALS / "final-ConvNet.json"
    stored = json.loads(ledger.read_text())
    assert stored["accuracies"] == {str(i): a for i, a in enumerate(whole.record.result.accuracies)}
    # as a run killed after its first eval net leaves it (a marked accuracy: that net must not train again)
    ledger.write_text(json.dumps({**stored, "accuracies": {"0": 0.123}}))
    resumed = distill(digits, **kw, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 3  # the last iteration's checkpoint: no iteration again
    assert torch.equal(resumed.images, whole.images)
    assert resumed.record.result.accuracies == [0.123, *whole.record.result.accuracies[1:]]
    # progress of another evaluation (other images) is not read; a tampered one is not trusted
    ledger.write_text(json.dumps({"key": "0" * 16, "accuracies": {"0": 0.123}}))
    assert distill(digits, **kw, resume=True).record.result.accuracies == whole.record.result.accuracies
    ledger.write_text(json.dumps({**stored, "accuracies": {"0": 7.0}}))
    with pytest.warns(UserWarning, match="unreadable .*its nets train again"):
        assert distill(digits, **kw, resume=True).record.result.accuracies == whole.record.result.accuracies
