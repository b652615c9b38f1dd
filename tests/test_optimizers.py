"""AdaBelief against Algorithm 2 of Zhuang et al. (2020) computed by hand, its difference from Adam, resume, bad
input."""
import copy

import numpy as np
import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.optimizers import AdaBelief


def _by_hand(grads, lr, b1, b2, eps, x0):
    x, m, s = np.array(x0, float), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, float)
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * (g - m) ** 2 + eps
        x = x - lr * (m / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps)
    return x


def test_steps_follow_the_papers_algorithm():
    grads = [[0.5, -2.0], [0.3, 1.0], [0.4, -0.5], [-0.1, 0.2]]
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
    opt = AdaBelief([w], lr=0.05, betas=(0.8, 0.9), eps=1e-8)
    for g in grads:
        w.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    assert np.allclose(w.detach().numpy(), _by_hand(grads, 0.05, 0.8, 0.9, 1e-8, [1.0, -1.0]), rtol=0, atol=1e-12)


def test_agreeing_gradients_step_farther_than_adam_and_scattered_ones_about_as_far():
    def travel(opt_class, grads):
        w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = opt_class([w], lr=0.01, eps=1e-16)
        for g in grads:
            w.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
        return abs(float(w.detach()))

    steady = [1.0 + 0.01 * k for k in range(50)]  # the same direction, slowly growing
    assert travel(AdaBelief, steady) > 2 * travel(torch.optim.Adam, steady)
    rng = np.random.default_rng(0)
    noisy = list(0.1 + rng.standard_normal(50))  # small mean, unit scatter
    assert 0.5 < travel(AdaBelief, noisy) / travel(torch.optim.Adam, noisy) < 2


def test_a_restored_state_continues_as_the_uninterrupted_optimizer():
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, generator=g) for _ in range(6)]
    w = torch.nn.Parameter(torch.zeros(3))
    opt = AdaBelief([w], lr=0.1)
    for grad in grads[:3]:
        w.grad = grad.clone()
        opt.step()
    saved, saved_w = copy.deepcopy(opt.state_dict()), w.detach().clone()  # state_dict holds live tensors
    for grad in grads[3:]:
        w.grad = grad.clone()
        opt.step()
    w2 = torch.nn.Parameter(saved_w)
    opt2 = AdaBelief([w2], lr=0.1)
    opt2.load_state_dict(saved)
    for grad in grads[3:]:
        w2.grad = grad.clone()
        opt2.step()
    assert torch.equal(w, w2)


@pytest.mark.parametrize("options, match", [
    ({"lr": 0}, "lr=0: expected a positive finite number"),
    ({"betas": (0.9, 1.0)}, r"betas=\(0.9, 1.0\): expected two numbers in \[0, 1\)"),
    ({"eps": -1e-8}, "eps=-1e-08: expected a finite number >= 0"),
])
def test_bad_settings_are_named(options, match):
    with pytest.raises(InvalidParameterError, match=match):
        AdaBelief([torch.nn.Parameter(torch.zeros(1))], **options)
