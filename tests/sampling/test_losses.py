import math

import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.sampling import LOSSES
from coredistill.sampling.losses import checked_losses, resolve_loss


def test_every_named_loss_passes_its_own_check():
    logits = torch.randn(7, 4, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 1, 2, 3, 0, 1, 2])
    for name in LOSSES.names():
        values = checked_losses(LOSSES.get(name), logits, targets)
        assert values.shape == (7,), name


def test_el2n_is_the_error_norm_of_the_softmax():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0], [50.0, -50.0, 0.0]])
    targets = torch.tensor([0, 2, 1])
    p = torch.softmax(logits, 1)
    el2n = resolve_loss("el2n")(logits, targets)
    expected = [math.sqrt((1 - p[0, 0]) ** 2 + p[0, 1] ** 2 + p[0, 2] ** 2),
                math.sqrt(2 * (1 / 3) ** 2 + (2 / 3) ** 2),  # uniform prediction
                math.sqrt(2.0)]  # all mass on a wrong class: the maximum
    assert el2n.tolist() == pytest.approx(expected, rel=1e-6)
    assert float(resolve_loss("el2n")(torch.tensor([[60.0, 0.0]]), torch.tensor([0]))) == pytest.approx(0, abs=1e-6)


def test_an_unknown_loss_is_a_named_error():
    with pytest.raises(InvalidParameterError, match="el2n"):
        resolve_loss("forgetting")
