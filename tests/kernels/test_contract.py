"""Generated from the kernel registry: every kernel gives a symmetric positive semi-definite Gram matrix,
deterministic in its seed, with features consistent with the kernel where it has them."""
import pytest
import torch

from coredistill.kernels import KERNELS, create_kernel


@pytest.mark.parametrize("name", KERNELS.names())
def test_contract(name):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 1, 8, 8, generator=g)
    k = create_kernel(name, **({"width": 16, "num_models": 2} if name == "nngp-rf" else {}))
    k.setup(x, 3, torch.device("cpu"))
    if k.random:
        k.resample(5)
    gram = k.kernel(x, x).double()
    assert gram.shape == (12, 12) and torch.isfinite(gram).all()
    assert torch.allclose(gram, gram.T, atol=1e-6 * gram.abs().max())
    assert torch.linalg.eigvalsh(gram).min() > -1e-5 * gram.abs().max()
    if k.random:
        first = k.kernel(x, x)
        k.resample(5)
        assert torch.equal(first, k.kernel(x, x))
    if hasattr(k, "features"):
        f = k.features(x)
        assert torch.allclose(k.kernel_from_features(f, f), k.kernel(x, x), rtol=1e-4, atol=1e-5)
