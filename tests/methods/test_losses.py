"""Each method's loss against a direct transcription of the published formula on tiny tensors."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from coredistill.methods import Context, RealData, create_method
from coredistill.methods.dc import layer_distance, loops_for, match_distance
from coredistill.models import create_model
from coredistill.sampling import create_sampler


class FixedSampler:
    """Returns the first ``batch_size`` examples of the class, with optional fixed weights."""

    def __init__(self, labels, weights=None):
        self.labels, self.weights = labels, weights

    def sample(self, c, batch_size, rng):
        idx = np.flatnonzero(self.labels == c)[:batch_size]
        return idx, None if self.weights is None else self.weights[idx]


def _ctx(real, labels, ipc, net, weights=None):
    ctx = Context(RealData(real, torch.as_tensor(labels), None), 2, ipc, FixedSampler(labels, weights),
                  np.random.default_rng(0), torch.Generator().manual_seed(0), torch.device("cpu"))
    ctx.new_net = lambda: net
    return ctx


def _data():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(12, 1, 8, 8, generator=g)
    labels = np.array([0] * 6 + [1] * 6)
    syn = torch.randn(4, 1, 8, 8, generator=g, requires_grad=True)
    return real, labels, syn


@pytest.mark.parametrize("batched", [True, False])
def test_dm_loss_is_sum_of_squared_mean_embedding_gaps(batched):
    real, labels, syn = _data()
    net = create_model("ConvNet", 1, 2, 8, seed=1, width=8)
    method = create_method("dm", batch_real=6, batched=batched, compiled=False)
    loss = next(method.losses(syn, torch.tensor([0, 0, 1, 1]), _ctx(real, labels, 2, net)))
    expected = sum(((net.embed(real[labels == c]).mean(0) - net.embed(syn[2 * c:2 * c + 2]).mean(0)) ** 2).sum()
                   for c in range(2))
    assert torch.allclose(loss, expected, rtol=1e-5)
    loss.backward()
    assert syn.grad is not None and syn.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())  # the random network is not trained


def test_dm_weighted_real_mean():
    real, labels, syn = _data()
    net = create_model("ConvNet", 1, 2, 8, seed=1, width=8)
    w = np.linspace(0.5, 2.0, 12)
    loss = next(create_method("dm", batch_real=6, compiled=False).losses(syn, torch.tensor([0, 0, 1, 1]),
                                                                         _ctx(real, labels, 2, net, w)))
    expected = 0
    for c in range(2):
        wc = torch.tensor(w[labels == c], dtype=torch.float32)
        er = (wc[:, None] * net.embed(real[labels == c])).mean(0)  # Horvitz–Thompson: (1/b) Σ w_i ψ(x_i)
        expected = expected + ((er - net.embed(syn[2 * c:2 * c + 2]).mean(0)) ** 2).sum()
    assert torch.allclose(loss, expected, rtol=1e-5)


def test_dm_batch_norm_net_uses_per_class_forwards():
    real, labels, syn = _data()
    net = create_model("ConvNetBN", 1, 2, 8, seed=1, width=8)
    method = create_method("dm", batch_real=6, compiled=False)
    loss = next(method.losses(syn, torch.tensor([0, 0, 1, 1]), _ctx(real, labels, 2, net)))
    net.train()
    expected = sum(((net.embed(real[labels == c]).mean(0) - net.embed(syn[2 * c:2 * c + 2]).mean(0)) ** 2).sum()
                   for c in range(2))
    assert torch.allclose(loss, expected, rtol=1e-5)


def _distance_transcription(gr, gs):
    # the DC paper's "ours" distance, written out
    if gr.dim() == 1:
        return 0.0
    if gr.dim() == 4:
        gr, gs = gr.reshape(gr.shape[0], -1), gs.reshape(gs.shape[0], -1)
    num = (gr * gs).sum(-1)
    den = gr.norm(dim=-1) * gs.norm(dim=-1) + 0.000001
    return (1 - num / den).sum()


def test_layer_distance_matches_the_paper():
    g = torch.Generator().manual_seed(3)
    for shape in [(5, 3, 3, 3), (7, 4), (6,)]:
        a, b = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
        assert torch.allclose(torch.as_tensor(layer_distance(a, b)), torch.as_tensor(_distance_transcription(a, b)))
    a = torch.randn(5, 3, 3, 3, generator=g)
    assert layer_distance(a, a) < 1e-5 and abs(float(layer_distance(a, -a)) - 10.0) < 1e-4
    assert loops_for(1) == (1, 1) and loops_for(10) == (10, 50) and loops_for(50) == (50, 10)


def test_dc_outer_step_matches_gradient_matching_by_hand():
    real, labels, syn = _data()
    net = create_model("ConvNet", 1, 2, 8, seed=2, width=8)
    method = create_method("dc", batch_real=6, outer_loop=1)
    loss = next(method.losses(syn, torch.tensor([0, 0, 1, 1]), _ctx(real, labels, 2, net)))
    params = list(net.parameters())
    expected = 0
    for c in range(2):
        xr = real[labels == c]
        gr = torch.autograd.grad(F.cross_entropy(net(xr), torch.full((6,), c)), params)
        gs = torch.autograd.grad(F.cross_entropy(net(syn[2 * c:2 * c + 2]), torch.full((2,), c)), params,
                                 create_graph=True)
        expected = expected + match_distance([g.detach() for g in gr], gs)
    assert torch.allclose(loss, expected, rtol=1e-5)
    loss.backward()
    assert syn.grad.abs().sum() > 0


def test_dc_weighted_real_loss_is_the_horvitz_thompson_mean():
    real, labels, syn = _data()
    net = create_model("ConvNet", 1, 2, 8, seed=2, width=8)
    w = np.linspace(0.5, 2.0, 12)
    loss = next(create_method("dc", batch_real=6, outer_loop=1).losses(syn, torch.tensor([0, 0, 1, 1]),
                                                                     _ctx(real, labels, 2, net, w)))
    params = list(net.parameters())
    expected = 0
    for c in range(2):
        xr, wc = real[labels == c], torch.tensor(w[labels == c], dtype=torch.float32)
        ce = F.cross_entropy(net(xr), torch.full((6,), c), reduction="none")
        gr = torch.autograd.grad((wc * ce).sum() / len(xr), params)
        gs = torch.autograd.grad(F.cross_entropy(net(syn[2 * c:2 * c + 2]), torch.full((2,), c)), params,
                                 create_graph=True)
        expected = expected + match_distance([g.detach() for g in gr], gs)
    assert torch.allclose(loss, expected, rtol=1e-5)
    unweighted = next(create_method("dc", batch_real=6, outer_loop=1).losses(syn, torch.tensor([0, 0, 1, 1]),
                                                                           _ctx(real, labels, 2, net)))
    assert not torch.allclose(loss, unweighted)  # the weights reach the real gradient


def test_dsa_applies_the_same_augmentation_to_both_sides():
    from coredistill.augment import DSA

    real, labels, syn = _data()
    net = create_model("ConvNet", 1, 2, 8, seed=2, width=8)
    ctx = _ctx(real, labels, 2, net)
    ctx.dsa = DSA(strategy="flip")
    # a synthetic set equal to the real batch's mean is matched exactly only if both sides are flipped alike
    method = create_method("dm", batch_real=1, compiled=False)
    one = torch.stack([real[0], real[6]]).clone().requires_grad_(True)
    ctx.ipc = 1
    for _ in range(5):
        assert next(method.losses(one, torch.tensor([0, 1]), ctx)).item() < 1e-8


def test_uniform_sampler_through_context():
    real, labels, _ = _data()
    s = create_sampler("uniform")
    s.setup(labels, 2)
    ctx = Context(RealData(real, torch.as_tensor(labels), None), 2, 1, s, np.random.default_rng(0),
                  torch.Generator().manual_seed(0), torch.device("cpu"))
    x, w = ctx.real_batch(1, 4)
    assert x.shape == (4, 1, 8, 8) and w is None


@pytest.mark.slow
def test_dm_compiled_real_side_equals_eager_and_reuses_one_compilation():
    from torch._dynamo.utils import counters

    real, labels, syn = _data()
    # the default 20,000 iterations would compile the "eager" side too
    eager = create_method("dm", batch_real=6, compiled=False)
    compiled = create_method("dm", batch_real=6, compiled=True)
    assert not eager._compiles(torch.device("cpu"))
    graphs = []
    for seed in (1, 2, 3):  # a fresh network each iteration, as in a run
        net = create_model("ConvNet", 1, 2, 8, seed=seed, width=8)
        for p in net.parameters():
            p.requires_grad_(False)
        a = next(eager.losses(syn, torch.tensor([0, 0, 1, 1]), _ctx(real, labels, 2, net)))
        b = next(compiled.losses(syn, torch.tensor([0, 0, 1, 1]), _ctx(real, labels, 2, net)))
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
        graphs.append(counters["stats"]["unique_graphs"])
    assert graphs[0] == graphs[1] == graphs[2] and "compiled" in compiled.options()  # no net compiled again


def test_dm_compiles_by_default_only_for_long_cpu_runs():
    from coredistill.methods.dm import COMPILE_FROM_ITERATIONS

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert not create_method("dm", iterations=200)._compiles(cpu)  # the cpu preset: eager, as stored results
    assert create_method("dm", iterations=COMPILE_FROM_ITERATIONS)._compiles(cpu)  # the paper preset's 20,000
    assert not create_method("dm", iterations=20000)._compiles(gpu)  # not measured on GPUs
    assert create_method("dm", iterations=4, compiled=True)._compiles(cpu)
    assert not create_method("dm", iterations=20000, compiled=False)._compiles(cpu)
