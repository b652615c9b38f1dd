import numpy as np
import torch

from coredistill.seeding import child_seeds, isolated_torch_rng, spawn


def test_child_seeds_stable_distinct_and_seed_dependent():
    a = child_seeds(0, ["select", "eval"])
    assert a == child_seeds(0, ["select", "eval"])
    assert a["select"] != a["eval"]
    assert a != child_seeds(1, ["select", "eval"])
    assert len(set(spawn(3, 100))) == 100


def test_isolated_rng_restores_global_state():
    before = torch.get_rng_state()
    np_before = np.random.get_state()[1].copy()
    with isolated_torch_rng(5):
        x = torch.rand(3)
    with isolated_torch_rng(5):
        y = torch.rand(3)
    assert torch.equal(x, y)
    assert torch.equal(torch.get_rng_state(), before)
    assert np.array_equal(np.random.get_state()[1], np_before)
