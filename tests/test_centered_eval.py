import copy

import pytest
import torch

from coredistill.centered_eval import (RFAD_FINITE, _train_centered, centered_accuracy, centered_targets,
                                       evaluate_centered, rfad_finite_settings, validation_indices)
from coredistill.errors import InvalidParameterError
from coredistill.models import create_model


def _ipc(y, ipc):
    return torch.cat([torch.nonzero(y == c)[:ipc, 0] for c in range(10)])


def test_targets_are_one_hot_minus_one_over_c_and_soft_labels_pass_through():
    t = centered_targets(torch.tensor([0, 2]), 4)
    assert torch.allclose(t, torch.tensor([[0.75, -0.25, -0.25, -0.25], [-0.25, -0.25, 0.75, -0.25]]))
    assert torch.allclose(t.sum(1), torch.zeros(2))  # centred: each row sums to 0
    soft = torch.rand(3, 4)
    assert torch.equal(centered_targets(soft, 4), soft)


def test_centred_predictions_are_zero_at_initialization_so_the_first_loss_is_mean_squared_target():
    # f - f0 = 0 at step 0: the loss is mean((s y)^2) / s^2 = mean(y^2), whatever the label scale s
    net = create_model("ConvNetNN", 1, 3, (8, 8), seed=0, width=8)
    x = torch.randn(6, 1, 8, 8)
    y = centered_targets(torch.tensor([0, 1, 2, 0, 1, 2]), 3)
    for scale in (1.0, 8.0):
        init = copy.deepcopy(net)
        loss = ((net(x) - init(x) - scale * y) ** 2).mean() / scale ** 2
        assert loss.item() == pytest.approx((y ** 2).mean().item())


def test_training_moves_weights_and_weight_decay_pulls_them_back_towards_initialization():
    x = torch.randn(6, 1, 8, 8)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    targets = centered_targets(labels, 3)

    def distance(weight_decay):
        net = create_model("ConvNetNN", 1, 3, (8, 8), seed=0, width=8)
        init = copy.deepcopy(net)
        _train_centered(net, init, x, targets, x, labels, lr=0.05, weight_decay=weight_decay, label_scale=8.0,
                        max_steps=50, patience=1000, validate_every=10, progress=None)
        return sum(((p - p0) ** 2).sum() for p, p0 in zip(net.parameters(), init.parameters())).item()

    free, held = distance(0.0), distance(1.0)
    assert free > 0
    assert held < free


def test_the_kept_net_is_the_best_validated_step_and_its_accuracy_is_reproduced(digits_real):
    x, y, tx, ty = digits_real
    idx, val = _ipc(y, 2), validation_indices(y, 20, 10, seed=0)
    net = create_model("ConvNetNN", 1, 10, (8, 8), seed=1, width=16)
    init = copy.deepcopy(net)
    best, step, acc, ran = _train_centered(net, init, x[idx], centered_targets(y[idx], 10), x[val], y[val], lr=0.01,
                                           weight_decay=0.0, label_scale=8.0, max_steps=400, patience=1000,
                                           validate_every=50, progress=None)
    assert step % 50 == 0 and 0 <= step <= 400 and ran == 400  # validated every 50 steps and after the last
    assert centered_accuracy(best, init, x[val], y[val]) == pytest.approx(acc)
    # step 0 alone would score a tenth (centred predictions all zero: class 0 on a balanced split): it learned
    assert acc > 0.3


def test_a_run_shorter_than_the_validation_interval_still_validates_its_last_step():
    x = torch.randn(4, 1, 8, 8)
    labels = torch.tensor([0, 1, 0, 1])
    net = create_model("ConvNetNN", 1, 2, (8, 8), seed=0, width=8)
    init = copy.deepcopy(net)
    best, step, acc, ran = _train_centered(net, init, x, centered_targets(labels, 2), x, labels, lr=0.05,
                                           weight_decay=0.0, label_scale=8.0, max_steps=40, patience=500,
                                           validate_every=100, progress=None)
    assert ran == 40 and step in (0, 40)
    assert acc == pytest.approx(centered_accuracy(net if step == 40 else init, init, x, labels))


def test_patience_stops_a_run_that_stopped_improving():
    # targets already met at initialization (f - f0 = 0 = target): no step improves on step 0
    x = torch.randn(4, 1, 8, 8)
    labels = torch.tensor([0, 1, 0, 1])
    net = create_model("ConvNetNN", 1, 2, (8, 8), seed=0, width=8)
    _, step, _, ran = _train_centered(net, copy.deepcopy(net), x, torch.zeros(4, 2), x, labels, lr=1e-4,
                                      weight_decay=0.0, label_scale=8.0, max_steps=10_000, patience=30,
                                      validate_every=10, progress=None)
    assert step == 0 and ran == 30  # steps 0..29 trained, stopped at step 30 = best + patience


def test_learns_on_digits_and_is_deterministic_in_the_seed(digits_real):
    x, y, tx, ty = digits_real
    idx, val = _ipc(y, 5), validation_indices(y, 20, 10, seed=0)
    kw = dict(num_classes=10, lr=1e-2, weight_decay=0.0, width=32, max_steps=300, validate_every=50, nets=2,
              seed=4, progress=False)
    a = evaluate_centered(x[idx], y[idx], x[val], y[val], tx, ty, **kw)
    b = evaluate_centered(x[idx], y[idx], x[val], y[val], tx, ty, **kw)
    assert a.accuracies == b.accuracies and a.best_steps == b.best_steps
    assert a.mean > 0.5  # chance is 0.1
    assert a.to_dict()["protocol"] == "rfad-finite" and a.settings["width"] == 32


def test_validation_indices_are_per_class_distinct_and_seeded():
    y = torch.arange(100) % 4
    v = validation_indices(y, 10, 4, seed=3)
    assert len(v) == 40 and len(set(v.tolist())) == 40
    assert torch.equal(torch.bincount(y[v], minlength=4), torch.full((4,), 10))
    assert torch.equal(v, validation_indices(y, 10, 4, seed=3))
    assert len(validation_indices(y, 50, 4, seed=0)) == 100  # a smaller class gives all it has


def test_settings_are_rfads_published_table_and_unknown_cells_are_refused():
    assert rfad_finite_settings("mnist", 10) == {"lr": 1e-2, "label_scale": 8.0, "weight_decay": 1e-3}
    assert rfad_finite_settings("mnist", 1) is not RFAD_FINITE[("mnist", 1)]  # a copy: callers may change it
    with pytest.raises(InvalidParameterError, match="dataset/ipc"):
        rfad_finite_settings("mnist", 3)


@pytest.mark.parametrize("name,value", [("lr", 0.0), ("weight_decay", -1.0), ("label_scale", float("nan")),
                                        ("width", 0), ("max_steps", 1.5), ("nets", True)])
def test_bad_settings_name_the_parameter(name, value):
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
    kw = dict(num_classes=2, lr=1e-3, weight_decay=0.0, width=8, max_steps=5, progress=False)
    kw[name] = value
    with pytest.raises(InvalidParameterError, match=name):
        evaluate_centered(x, y, x, y, x, y, **kw)


def test_a_validation_set_unlike_the_set_is_refused_by_its_own_name():
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
    with pytest.raises(InvalidParameterError, match="val_images"):
        evaluate_centered(x, y, torch.randn(4, 1, 6, 6), y, x, y, num_classes=2, lr=1e-3, weight_decay=0.0, width=8,
                          progress=False)


def test_validation_labels_must_be_class_indices():
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
    with pytest.raises(InvalidParameterError, match="val_labels"):
        evaluate_centered(x, y, x, torch.rand(4, 2), x, y, num_classes=2, lr=1e-3, weight_decay=0.0, width=8,
                          progress=False)
