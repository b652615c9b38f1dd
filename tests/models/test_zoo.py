"""One API test per registry entry (timm-style): build, forward, embed, determinism, shape errors."""
import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.models import create_model, list_models
from coredistill.models.convnet import auto_depth


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_forward_and_embed_shapes(name, channels, size):
    net = create_model(name, channels=channels, num_classes=7, image_size=size, seed=0)
    x = torch.randn(3, channels, size, size)
    out, emb = net(x), net.embed(x)
    assert out.shape == (3, 7)
    assert emb.shape == (3, net.embed_dim)
    assert torch.allclose(net.classifier(emb), out, atol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", list_models())
def test_seeded_construction_is_deterministic_and_leaves_global_rng(name):
    state = torch.get_rng_state()
    a = create_model(name, 3, 10, 32, seed=5)
    b = create_model(name, 3, 10, 32, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_wrong_input_shape_is_named():
    net = create_model("ConvNet", 1, 10, 28)
    with pytest.raises(InvalidParameterError, match=r"images=\(2, 3, 28, 28\): expected shape \(N, 1, 28, 28\)"):
        net(torch.zeros(2, 3, 28, 28))


def test_unknown_model_and_options():
    with pytest.raises(InvalidParameterError, match="model='ConvNet9': expected one of: ConvNet, "):
        create_model("ConvNet9", 1, 10, 28)
    with pytest.raises(InvalidParameterError, match=r"options=\['depth'\]: expected options accepted by model 'MLP': "):
        create_model("MLP", 1, 10, 28, depth=3)
    with pytest.raises(InvalidParameterError, match="accepted by model 'ConvNet': width, depth, norm"):
        create_model("ConvNet", 1, 10, 28, widht=3)
    with pytest.raises(InvalidParameterError, match="norm='fancy'"):
        create_model("ConvNet", 1, 10, 28, norm="fancy")
    with pytest.raises(InvalidParameterError, match="image_size=.8, 8.: expected an image size large enough for VGG11"):
        create_model("VGG11", 1, 10, 8)


def test_convnet_is_the_fields_convnet3():
    net = create_model("ConvNet", 3, 10, 32)
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in net.features if isinstance(m, torch.nn.GroupNorm)]
    assert len(convs) == 3 and all(c.out_channels == 128 and c.kernel_size == (3, 3) for c in convs)
    assert all(n.num_groups == n.num_channels == 128 for n in norms)  # instance norm with affine
    assert net.embed_dim == 128 * 4 * 4
    # 28x28 is padded to 32x32 by the first conv: same feature grid as CIFAR
    assert create_model("ConvNet", 1, 10, 28).embed_dim == 2048
    assert [auto_depth((s, s)) for s in (8, 28, 32, 64, 128)] == [1, 3, 3, 4, 5]
