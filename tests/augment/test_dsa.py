import pytest
import torch

from coredistill.augment import DSA, OPERATIONS, default_strategy
from coredistill.errors import InvalidParameterError


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_siamese_same_transform_for_every_tensor_and_image(op):
    """One image repeated in two batches of different sizes comes out identical everywhere."""
    img = torch.rand(1, 3, 16, 16)
    dsa = DSA(strategy=op)
    for seed in range(5):
        a, b = dsa(img.expand(4, -1, -1, -1).clone(), img.clone(), generator=_gen(seed))
        assert torch.allclose(a, b.expand_as(a), atol=1e-6)


@pytest.mark.parametrize("op", [o for o in OPERATIONS if o != "flip"])
def test_operations_change_images(op):
    img = torch.rand(1, 3, 16, 16)
    out = [DSA(strategy=op)(img, generator=_gen(s)) for s in range(4)]
    assert any(not torch.allclose(o, img) for o in out)


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_per_image_mode_draws_per_image(op):
    img = torch.rand(1, 3, 16, 16).expand(64, -1, -1, -1).clone()
    out = DSA(strategy=op)(img, generator=_gen(1), siamese=False)
    distinct = {tuple(o.flatten()[:50].tolist()) for o in out}
    assert len(distinct) > 1


@pytest.mark.parametrize("op", ["color", "scale", "rotate", "crop", "cutout", "flip"])
def test_differentiable_wrt_input(op):
    x = torch.rand(2, 3, 8, 8, dtype=torch.double, requires_grad=True)
    dsa = DSA(strategy=op)
    assert torch.autograd.gradcheck(lambda t: dsa(t, generator=_gen(3)), (x,), eps=1e-6, atol=1e-4)


def test_same_generator_seed_same_output_and_global_rng_untouched():
    x = torch.rand(5, 3, 16, 16)
    dsa = DSA()
    state = torch.get_rng_state()
    a, b = dsa(x, generator=_gen(7)), dsa(x, generator=_gen(7))
    assert torch.equal(a, b) and torch.equal(torch.get_rng_state(), state)


def test_single_mode_picks_one_operation_and_all_mode_every_one():
    ops = [op for op, _ in DSA().sample(1, (8, 8), _gen(0))]
    assert len(ops) == 1
    assert [op for op, _ in DSA(mode="all").sample(1, (8, 8), _gen(0))] == list(OPERATIONS)


def test_field_parameters_bound_the_transforms():
    dsa = DSA(strategy="scale")
    params = dict(dsa.sample(10000, (32, 32), _gen(0)))["scale"]
    assert 1 / 1.2 - 1e-6 <= params["sx"].min() and params["sx"].max() <= 1.2 + 1e-6
    crop = dict(DSA(strategy="crop").sample(10000, (32, 32), _gen(0)))["crop"]
    assert crop["dx"].abs().max() == 4  # 0.125 * 32
    angle = dict(DSA(strategy="rotate").sample(10000, (32, 32), _gen(0)))["rotate"]["angle"]
    assert angle.abs().max() <= 15 / 180 * torch.pi + 1e-6


def test_bad_strategy_and_flip_for_digits():
    with pytest.raises(InvalidParameterError, match="strategy='color_blur'"):
        DSA(strategy="color_blur")
    assert "flip" not in default_strategy(allow_flip=False)
    with pytest.raises(InvalidParameterError, match="siamese=False"):
        DSA()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), siamese=False)
