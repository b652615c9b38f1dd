import numpy as np
import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.kernels import RBF, KRRFit, NumericalError, centered_one_hot, create_kernel, krr_solve


def test_krr_predictor_matches_a_direct_numpy_solve():
    g = torch.Generator().manual_seed(0)
    xs, xt = torch.randn(12, 1, 4, 4, generator=g), torch.randn(30, 1, 4, 4, generator=g)
    y = centered_one_hot(torch.arange(12) % 3, 3)
    k = RBF(gamma=0.05)
    k.setup(xs, 3, torch.device("cpu"))
    fit = KRRFit(k, xs, y, reg=1e-3)
    a, b = xs.reshape(12, -1).double().numpy(), xt.reshape(30, -1).double().numpy()
    kss = np.exp(-0.05 * ((a[:, None] - a[None]) ** 2).sum(-1))
    kts = np.exp(-0.05 * ((b[:, None] - a[None]) ** 2).sum(-1))
    lam = 1e-3 * np.trace(kss) / 12
    expected = kts @ np.linalg.solve(kss + lam * np.eye(12), y.numpy())
    assert np.allclose(fit(xt).numpy(), expected, atol=1e-5)


def test_singular_system_gets_jitter_then_a_clear_error():
    x = torch.ones(5, 3)
    k = x @ x.T  # rank 1
    alpha = krr_solve(k, torch.eye(5), reg=1e-6)  # regularization makes it solvable
    assert torch.isfinite(alpha).all()
    with pytest.raises(NumericalError, match="reg=1e-06: the kernel system of 3 support points is singular"):
        krr_solve(torch.full((3, 3), float("nan")), torch.eye(3), reg=1e-6)
    for bad in (0, -1.0, float("inf"), True):
        with pytest.raises(InvalidParameterError, match="reg="):
            krr_solve(k, torch.eye(5), reg=bad)


def test_nngp_random_features_converge_to_their_expectation():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 1, 8, 8, generator=g)

    def estimate(num_models, seed):
        k = create_kernel("nngp-rf", num_models=num_models, width=16)
        k.setup(x, 2, torch.device("cpu"))
        k.resample(seed)
        with torch.no_grad():
            return k.kernel(x, x)

    reference = torch.stack([estimate(64, 1000 + s) for s in range(4)]).mean(0)  # ≈ the expectation
    errors = {m: np.mean([float((estimate(m, s) - reference).norm() / reference.norm()) for s in range(6)])
              for m in (1, 4, 16)}
    assert errors[1] > errors[4] > errors[16]
    assert errors[16] < 0.5 * errors[1]


def test_nngp_draws_are_deterministic_in_the_seed():
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    k = create_kernel("nngp-rf", num_models=2, width=8)
    k.setup(x, 2, torch.device("cpu"))
    k.resample(5)
    a = k.features(x)
    k.resample(6)
    b = k.features(x)
    k.resample(5)
    assert torch.equal(a, k.features(x)) and not torch.equal(a, b)
