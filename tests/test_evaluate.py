import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.evaluate import evaluate
from coredistill.pipeline import prepare_real


@pytest.fixture(scope="module")
def digits_real(digits):
    train, test = prepare_real(digits, None)
    return train, digits.y_train, test, digits.y_test


def _ipc_subset(y, ipc):
    return torch.cat([torch.nonzero(y == c)[:ipc, 0] for c in range(10)])


def test_tiny_set_is_far_above_chance_and_deterministic(digits_real):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, 10)
    a = evaluate(x[idx], y[idx], tx, ty, num_classes=10, preset="tiny", seed=3, progress=False)
    b = evaluate(x[idx], y[idx], tx, ty, num_classes=10, preset="tiny", seed=3, progress=False)
    assert a.mean > 0.6  # chance is 0.1
    assert a.accuracies == b.accuracies and len(a.accuracies) == 2 and a.preset == "tiny"


def test_more_data_helps_and_dsa_runs(digits_real):
    x, y, tx, ty = digits_real
    one = _ipc_subset(y, 1)
    r1 = evaluate(x[one], y[one], tx, ty, num_classes=10, preset="tiny", epochs=50, progress=False)
    r_dsa = evaluate(x[one], y[one], tx, ty, num_classes=10, preset="tiny", epochs=50, dsa=True,
                     dsa_strategy="color_crop_cutout_scale_rotate", progress=False)
    many = _ipc_subset(y, 50)
    r50 = evaluate(x[many], y[many], tx, ty, num_classes=10, preset="tiny", epochs=50, progress=False)
    assert r50.mean > r1.mean + 0.1
    assert r_dsa.dsa and r_dsa.mean > 0.2


def test_soft_labels_and_cross_architecture(digits_real):
    x, y, tx, ty = digits_real
    idx = _ipc_subset(y, 5)
    soft = torch.nn.functional.one_hot(y[idx], 10).float()
    r = evaluate(x[idx], soft, tx, ty, num_classes=10, preset="tiny", model="MLP", epochs=30, progress=False)
    assert r.model == "MLP" and r.mean > 0.3


def test_bad_inputs(digits_real):
    x, y, tx, ty = digits_real
    with pytest.raises(InvalidParameterError, match="images="):
        evaluate(x[:5, :, :4], y[:5], tx, ty, num_classes=10, preset="tiny", progress=False)
    bad = x[:5].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(InvalidParameterError, match="finite values"):
        evaluate(bad, y[:5], tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="labels="):
        evaluate(x[:5], y[:4], tx, ty, num_classes=10, preset="tiny", progress=False)
    with pytest.raises(InvalidParameterError, match="epochs=0"):
        evaluate(x[:5], y[:5], tx, ty, num_classes=10, preset="tiny", epochs=0, progress=False)
    with pytest.raises(InvalidParameterError, match="preset='huge'"):
        evaluate(x[:5], y[:5], tx, ty, num_classes=10, preset="huge", progress=False)
