"""ImageDataset.validation_split: a held-out part of train as the evaluation split, for tuning off the test set."""
import numpy as np
import pytest
import torch

from coredistill.data import load_dataset
from coredistill.errors import InvalidParameterError


def _rows(x):
    return {bytes(r) for r in x.reshape(len(x), -1).numpy()}


def test_holds_out_per_class_train_images_and_never_the_test_split(digits):
    val = digits.validation_split(7, seed=3)
    assert np.array_equal(val.class_counts("test"), np.full(10, 7))
    assert np.array_equal(val.class_counts() + 7, digits.class_counts())
    # the two new splits partition the old train split; the old test split appears in neither
    assert len(val.y_train) + len(val.y_test) == len(digits.y_train)
    assert _rows(val.x_train) | _rows(val.x_test) <= _rows(digits.x_train)
    assert not torch.equal(val.x_test[:10], digits.x_test[:10])
    # labels travel with their images
    pairs = {(bytes(x), int(y)) for x, y in zip(digits.x_train.reshape(len(digits.x_train), -1).numpy(),
                                               digits.y_train.numpy())}
    assert all((bytes(x), int(y)) in pairs for x, y in zip(val.x_test.reshape(70, -1).numpy(), val.y_test.numpy()))
    # normalization comes from the remaining train images only
    assert val.mean != digits.mean
    assert val.describe()["validation"] == {"per_class": 7, "seed": 3} and val.describe()["n_test"] == 70


def test_seeded_and_loadable_by_name(digits):
    a, b = digits.validation_split(5, seed=1), digits.validation_split(5, seed=1)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.x_test, digits.validation_split(5, seed=2).x_test)
    loaded = load_dataset("digits", validation=5, validation_seed=1)
    assert torch.equal(loaded.x_test, a.x_test)


@pytest.mark.parametrize("per_class, seed, match", [(0, 0, "validation=0"), (True, 0, "validation=True"),
                                                    (1000, 0, "validation=1000.*smallest class"),
                                                    (5, -1, "validation_seed=-1")])
def test_bad_values_name_the_parameter(digits, per_class, seed, match):
    with pytest.raises(InvalidParameterError, match=match):
        digits.validation_split(per_class, seed)
