"""Options, declared once: generated from every registry, each option that has a constraint refuses a bad value
through the component's own check, with the error naming the option; and options() reads the constructor back."""
import numpy as np
import pytest
import torch
from torch import nn

from coredistill.errors import InvalidParameterError
from coredistill.features import FEATURES, create_features
from coredistill.kernels import KERNELS, create_kernel
from coredistill.methods import METHODS, create_method
from coredistill.params import BOOL, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, Params, fraction, one_of, optional
from coredistill.sampling import PREDICTORS, SAMPLERS, create_sampler
from coredistill.select import INITIALIZERS, create_initializer

EXAMPLE = {("features", "encoder"): {"module": nn.Flatten()}}


def _check_features(name, options):
    create_features(name, **options).compute(torch.zeros(4, 1, 8, 8), progress=False)


CHECKS = {  # family -> (registry, how a user's options are checked)
    "method": (METHODS, lambda name, o: create_method(name, **o).check()),
    "sampler": (SAMPLERS, lambda name, o: create_sampler(name, **o).check()),
    "init": (INITIALIZERS, lambda name, o: create_initializer(name, **o).check(np.array([10, 10]))),
    "features": (FEATURES, _check_features),
    "kernel": (KERNELS, lambda name, o: create_kernel(name, **o).check()),
    "predictor": (PREDICTORS, lambda name, o: PREDICTORS.create(name, **o).check()),
}
CASES = [(family, name, option)
         for family, (registry, _) in CHECKS.items() for name, cls in registry.items()
         for option, constraint in cls.all_constraints().items()
         if option in cls(**EXAMPLE.get((family, name), {})).options()]


def test_every_family_has_declared_constraints():
    assert {family for family, _, _ in CASES} == set(CHECKS)


@pytest.mark.parametrize("family, name, option", CASES, ids=lambda v: str(v))
def test_a_bad_value_is_refused_and_named(family, name, option):
    registry, check = CHECKS[family]
    bad = registry.get(name).all_constraints()[option].bad
    options = {**EXAMPLE.get((family, name), {}), option: bad}
    with pytest.raises(InvalidParameterError, match=rf"(^|\s){option}="):
        check(name, options)


@pytest.mark.parametrize("constraint, good, bad", [
    (POSITIVE_INT, [1, np.int64(3)], [0, -1, 1.0, True, "1", None]),
    (NON_NEGATIVE_INT, [0, 5], [-1, 0.5, False]),
    (POSITIVE, [1e-9, 2, 0.5], [0, -1.0, float("inf"), float("nan"), True]),
    (BOOL, [True, False], [0, 1, "yes", None]),
    (optional(POSITIVE_INT), [None, 2], [0]),
    (one_of("a", "b"), ["a"], ["c", 1, None]),
    (fraction(), [0, 0.5, 1], [-0.1, 1.01]),
    (fraction(closed_right=False), [0, 0.99], [1, 1.0]),
])
def test_constraints_accept_and_refuse(constraint, good, bad):
    assert all(constraint.test(v) for v in good)
    assert not any(constraint.test(v) for v in bad)
    assert not constraint.test(constraint.bad)


def test_options_name_an_unstored_argument():
    class Forgetful(Params):
        def __init__(self, size: int = 1) -> None:
            self._size = size

    with pytest.raises(AttributeError, match="must store its argument 'size' as self.size"):
        Forgetful().options()


def test_an_added_option_stays_out_of_options_at_its_default_and_is_kept_when_set():
    # stored runs' keys (checkpoints, caches) were written before the option existed
    class Grown(Params):
        added_options = ("later",)

        def __init__(self, size: int = 3, later: int = 0, flag: bool = False):
            self.size, self.later, self.flag = size, later, flag

    assert Grown().options() == {"size": 3, "flag": False}
    assert Grown(later=2).options() == {"size": 3, "later": 2, "flag": False}
    assert type(Grown(later=2))(**Grown(later=2).options()).options() == Grown(later=2).options()


def test_mtt_options_at_their_defaults_are_the_ones_stored_runs_were_keyed_by():
    stored = {"experts", "iterations", "syn_steps", "expert_epochs", "max_start_epoch", "lr_images", "lr_lr",
              "lr_teacher", "batch_syn", "memory"}
    assert set(create_method("mtt").options()) == stored
    assert create_method("mtt", min_start_epoch=1, soft_labels=True).options()["soft_labels"] is True
