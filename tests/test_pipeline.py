import numpy as np
import pytest
import torch

from coredistill.config import RunConfig
from coredistill.data import ImageDataset
from coredistill.errors import InvalidParameterError
from coredistill.pipeline import distill, evaluate_artifact


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


def test_static_pruning_removes_each_class_hardest_by_a_teacher(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    y = digits.y_train.clone()
    planted = np.flatnonzero(y.numpy() == 1)[:3]
    y[torch.from_numpy(planted)] = 0  # three "1"s labelled 0: the hardest of class 0 for any teacher
    noisy = ImageDataset("digits", digits.x_train, y, digits.x_test, digits.y_test, digits.class_names,
                         allow_flip=False)
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
