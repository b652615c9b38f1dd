"""ImageDataset: its normalization statistics (exact, whatever the thread count); validation_split, a held-out part
of train as the evaluation split, for tuning off the test set."""
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


def test_statistics_are_exact_and_independent_of_the_thread_count():
    # they are part of the data's identity (caches, expert buffers and checkpoints match by it): a float32
    # reduction's last digits change with the thread count, which made a buffer built on 2 threads "another config"
    # for a run on 1
    from fractions import Fraction

    from coredistill.data import ImageDataset

    x = torch.randint(0, 256, (3000, 2, 9, 9), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(3000) % 3
    threads = torch.get_num_threads()
    try:
        seen = set()
        for n in (1, 2):
            torch.set_num_threads(n)
            d = ImageDataset("t", x, y, x[:10], y[:10], ["a", "b", "c"])
            seen.add((d.mean, d.std))
    finally:
        torch.set_num_threads(threads)
    assert len(seen) == 1
    mean, std = seen.pop()
    values = x.transpose(0, 1).reshape(2, -1).tolist()
    for c in range(2):
        exact_mean = Fraction(sum(values[c]), 255 * len(values[c]))
        assert mean[c] == float(exact_mean)
        exact_var = sum((Fraction(v, 255) - exact_mean) ** 2 for v in values[c]) / (len(values[c]) - 1)
        assert std[c] == pytest.approx(float(exact_var) ** 0.5, rel=1e-15)
