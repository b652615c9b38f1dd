"""One compilation per architecture: every fresh net of that architecture reuses it, with its own weights."""
import pytest
import torch
from torch._dynamo.utils import counters
from torch.nn import functional as F

from coredistill.models import create_model
from coredistill.models.compiled import compiled_call


def _loss(module, x, y):
    return F.cross_entropy(module(x), y)


@pytest.mark.slow
def test_nets_of_one_architecture_share_one_compilation_and_get_the_eager_gradients(monkeypatch):
    from coredistill.models import compiled as compiled_module

    monkeypatch.setattr(compiled_module, "_COMPILED", {})  # what earlier tests compiled in this process
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 1, 8, 8, generator=g), torch.arange(12) % 10
    counters.clear()
    for seed in range(3):
        net = create_model("ConvNet", 1, 10, (8, 8), width=8, seed=seed)
        loss = compiled_call(net, _loss, "test.loss")(x, y)
        loss.backward()
        compiled_grads = [p.grad.clone() for p in net.parameters()]
        net.zero_grad()
        eager = _loss(net, x, y)
        eager.backward()
        assert torch.allclose(loss, eager, atol=1e-6)
        for a, b in zip(compiled_grads, (p.grad for p in net.parameters())):
            assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)
    assert counters["stats"]["unique_graphs"] == 1  # not one per net
    wider = create_model("ConvNet", 1, 10, (8, 8), width=16, seed=0)
    compiled_call(wider, _loss, "test.loss")(x, y)
    assert counters["stats"]["unique_graphs"] == 2  # another architecture: its own compilation
