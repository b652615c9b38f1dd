"""The fast CPU pooling is the field's pooling, bit for bit."""
import pytest
import torch
from torch import nn

from coredistill.models.layers import AvgPool2x2


@pytest.mark.parametrize("shape", [(5, 3, 32, 32), (2, 32, 16, 16), (3, 8, 7, 9), (1, 1, 2, 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_avgpool2x2_is_bit_identical_to_avgpool2d_forward_backward_and_double_backward(shape, dtype, channels_last):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g, dtype=dtype) * 3
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = nn.AvgPool2d(2, 2)(a), AvgPool2x2()(b)
    assert ya.shape == yb.shape and torch.equal(ya, yb)
    w = torch.randn(ya.shape, generator=g, dtype=dtype)
    (ga,) = torch.autograd.grad((ya * ya * w).sum(), a, create_graph=True)
    (gb,) = torch.autograd.grad((yb * yb * w).sum(), b, create_graph=True)
    assert torch.equal(ga, gb)
    # second order (gradient matching differentiates through the net's gradient)
    (ha,) = torch.autograd.grad((ga ** 2).sum(), a)
    (hb,) = torch.autograd.grad((gb ** 2).sum(), b)
    assert torch.equal(ha, hb)


def test_large_inputs_take_the_plain_pooling_path(monkeypatch):
    import coredistill.models.layers as layers

    calls = []
    monkeypatch.setattr(layers.F, "conv2d", lambda *a, **k: calls.append(1) or torch.zeros(1))
    AvgPool2x2()(torch.zeros(1, 1600, 64, 64))
    assert calls == [] and layers.CONV_POOL_MAX_BYTES < 1600 * 64 * 64 * 4
    AvgPool2x2()(torch.zeros(2, 4, 8, 8))
    assert calls == [1]


def test_avgpool2x2_has_no_state():
    assert AvgPool2x2().state_dict() == {} and list(AvgPool2x2().parameters()) == []
