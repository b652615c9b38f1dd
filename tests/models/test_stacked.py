"""Every registered model either stacks — and then the stacked forward is each net's own forward — or says why not."""
import pytest
import torch

from coredistill.models import create_model, list_models
from coredistill.models.stacked import StackedNets, unsupported_reason


@pytest.mark.parametrize("name", list_models())
def test_stacked_forward_and_gradients_are_each_nets_own(name):
    nets = [create_model(name, 1, 5, 28, seed=s) for s in range(3)]
    reason = unsupported_reason(nets[0])
    if reason is not None:
        assert name.endswith(("BN", "LN")) or name.startswith("ResNet"), f"{name} should stack: {reason}"
        with pytest.raises(ValueError, match="cannot stack"):
            StackedNets(nets)
        return
    stacked = StackedNets(nets)
    x = torch.randn(3, 4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out = stacked(x)
    for i, net in enumerate(nets):
        assert torch.allclose(out[i], net(x[i]), atol=1e-5, rtol=1e-4)
    # gradient of the summed losses w.r.t. net i's stacked slice = net i's own gradient
    out.square().sum().backward()
    for i, net in enumerate(nets):
        net(x[i]).square().sum().backward()
        own = [p.grad for p in net.parameters()]
        mine = [p.grad[i] for p in stacked.parameters()]
        assert len(own) == len(mine)
        for a, b in zip(own, mine):
            assert torch.allclose(a, b, atol=1e-4, rtol=1e-3)


def test_write_back_and_mismatched_architectures():
    nets = [create_model("ConvNetW32", 1, 5, 28, seed=s) for s in range(2)]
    stacked = StackedNets(nets)
    with torch.no_grad():
        for p in stacked.parameters():
            p.add_(1.0)
    fresh = [create_model("ConvNetW32", 1, 5, 28, seed=9) for _ in range(2)]
    stacked.write_back(fresh)
    for i in range(2):
        for a, b in zip(fresh[i].parameters(), nets[i].parameters()):
            assert torch.equal(a, b + 1.0)
    with pytest.raises(ValueError, match="one architecture"):
        StackedNets([create_model("ConvNetW32", 1, 5, 28), create_model("ConvNetD2", 1, 5, 28)])
    with pytest.raises(ValueError, match="inputs for 2 nets"):
        stacked(torch.zeros(3, 1, 1, 28, 28))
