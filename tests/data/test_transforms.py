import pytest
import torch

from coredistill.data import ZCA
from coredistill.errors import InvalidParameterError


def test_normalizer_round_trip_and_stats(digits):
    norm = digits.normalizer()
    x = digits.train_float()
    z = norm(x)
    assert z.mean().item() == pytest.approx(0.0, abs=1e-4) and z.std().item() == pytest.approx(1.0, abs=1e-3)
    assert torch.allclose(norm.inverse(z), x, atol=1e-6)
    with pytest.raises(InvalidParameterError, match=r"expected shape \(N, 1, H, W\)"):
        norm(torch.zeros(2, 3, 8, 8))


def test_zca_whitens_and_inverts(digits):
    x = digits.normalizer()(digits.train_float())
    zca = ZCA(eps=1e-3).fit(x)
    w = zca(x).reshape(len(x), -1).double()
    cov = torch.cov(w.T)
    # whitened covariance ~ identity on the data's support (eps shrinks near-null directions)
    big = torch.linalg.eigvalsh(torch.cov(x.reshape(len(x), -1).double().T)) > 0.5
    eig = torch.linalg.eigvalsh(cov)
    assert eig.max().item() < 1.01 and (eig > 0.5).sum() >= big.sum()
    assert torch.allclose(zca.inverse(zca(x)), x, atol=1e-3)


def test_zca_state_round_trip(digits):
    x = digits.normalizer()(digits.train_float())
    zca = ZCA(0.1).fit(x)
    again = ZCA.from_state_dict(zca.state_dict())
    assert torch.equal(again(x[:5]), zca(x[:5]))


def test_zca_bad_eps(digits):
    with pytest.raises(InvalidParameterError, match="eps=0: expected a positive number"):
        ZCA(eps=0).fit(torch.zeros(4, 1, 2, 2))


def test_relative_zca_whitens_the_uncentred_second_moment():
    """KIP/RFAD's convention: W = U (S + eps·tr(C)/d)^-1/2 Uᵀ of C = XᵀX/n, no centring; with a small eps the
    whitened second moment is the identity, and the inverse undoes the transform."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 1, 3, 3, generator=g) @ torch.randn(3, 3, generator=g) + 2.0
    zca = ZCA(eps=1e-6, relative=True).fit(x)
    w = zca(x).reshape(len(x), -1).double()
    assert torch.allclose(w.T @ w / len(x), torch.eye(9, dtype=torch.float64), atol=1e-3)
    assert torch.allclose(zca.inverse(zca(x)), x, atol=1e-3)
    assert torch.equal(zca.mean, torch.zeros(9))
    back = ZCA.from_state_dict(zca.state_dict())
    assert back.relative and torch.equal(back(x), zca(x))
