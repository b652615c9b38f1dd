"""KIP / RFAD: the loss against the formula, gradients to the images, label learning, resume, bad input."""
import numpy as np
import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.kernels import centered_one_hot
from coredistill.methods import Context, RealData, create_method
from coredistill.pipeline import distill
from coredistill.sampling import create_sampler


def _setup(method, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(20, 1, 4, 4, generator=g, dtype=dtype)
    labels = np.repeat([0, 1], 10)
    s = create_sampler("uniform")
    s.setup(labels, 2)
    ctx = Context(RealData(real, torch.as_tensor(labels), None), 2, 2, s, np.random.default_rng(0),
                  torch.Generator().manual_seed(0), torch.device("cpu"))
    syn = torch.randn(4, 1, 4, 4, generator=g, dtype=dtype)
    syn_labels = torch.tensor([0, 0, 1, 1])
    method.setup(syn, syn_labels, ctx)
    return real, torch.as_tensor(labels), syn, syn_labels, ctx


def test_kip_loss_is_the_krr_mse_of_the_formula():
    m = create_method("kip", reg=1e-3, kernel_options={"gamma": 0.1})
    real, y, syn, ys, ctx = _setup(m)
    loss = m.example_losses(syn, real, y, 2).mean()
    a, b = syn.reshape(4, -1), real.reshape(20, -1)
    kss = torch.exp(-0.1 * torch.cdist(a, a) ** 2)
    kts = torch.exp(-0.1 * torch.cdist(b, a) ** 2)
    alpha = torch.linalg.solve(kss + 1e-3 * torch.trace(kss) / 4 * torch.eye(4, dtype=kss.dtype),
                               centered_one_hot(ys, 2))
    expected = 0.5 * ((centered_one_hot(y, 2) - kts @ alpha) ** 2).mean()
    assert torch.allclose(loss, expected, rtol=1e-6)


def test_gradients_reach_the_support_images_finite_differences():
    m = create_method("kip", reg=1e-2, kernel_options={"gamma": 0.1})
    real, y, syn, ys, ctx = _setup(m)
    syn = syn.clone().requires_grad_(True)
    loss = m.example_losses(syn, real, y, 2).mean()
    (grad,) = torch.autograd.grad(loss, syn)
    assert grad.abs().sum() > 0
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (1, 0, 2, 3), (3, 0, 1, 1)]:
        plus, minus = syn.detach().clone(), syn.detach().clone()
        plus[idx] += eps
        minus[idx] -= eps
        numeric = (m.example_losses(plus, real, y, 2).mean() - m.example_losses(minus, real, y, 2).mean()) / (2 * eps)
        assert abs(float(numeric) - float(grad[idx])) < 1e-6 + 1e-4 * abs(float(grad[idx]))


@pytest.mark.parametrize("method", ["kip", "rfad"])
def test_labels_are_learned_only_when_enabled(method, digits):
    base = dict(ipc=2, method=method, preset="tiny", iterations=3, evaluate_with=(), progress=False)
    fixed = distill(digits, **base)
    assert fixed.manifest["log"]["learned_labels"] is None
    learned = distill(digits, **base, method_options={"learn_labels": True, "lr_labels": 0.05})
    values = torch.tensor(learned.manifest["log"]["learned_labels"])
    assert values.shape == (20, 10)
    assert not torch.allclose(values, centered_one_hot(learned.labels, 10).float())
    assert torch.equal(learned.labels, fixed.labels)  # the hard labels the ConvNet protocol trains on


def test_platt_temperature_is_learned_and_krr_accuracy_reported(digits):
    r = distill(digits, ipc=2, method="rfad", preset="tiny", iterations=3, progress=False,
                method_options={"loss": "platt", "lr_temperature": 0.1})
    assert r.manifest["log"]["platt_temperature"] != 1.0
    krr = r.manifest["metrics"]["KRR (nngp-rf)"]
    assert 0.1 < krr["mean"] <= 1 and "ConvNet" in r.manifest["metrics"]


def test_rfad_resumes_bit_identically_with_model_rotation(digits, tmp_path, stopped_before_the_end):
    run = dict(ipc=1, method="rfad", preset="tiny", iterations=5, evaluate_with=(), progress=False,
               method_options={"model_rotation": 2, "learn_labels": True},
               checkpoint_dir=tmp_path / "ck", checkpoint_every=3)
    whole = distill(digits, **run)
    stopped_before_the_end(tmp_path / "ck")  # checkpoints at 3 and 5: as stopped in iteration 4 or 5
    resumed = distill(digits, **run, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 3
    assert torch.equal(whole.images, resumed.images)
    assert whole.manifest["log"]["learned_labels"] == resumed.manifest["log"]["learned_labels"]


def test_kernel_leverage_init_uses_the_methods_kernel(digits):
    r = distill(digits, ipc=2, method="rfad", init="kernel-leverage", preset="tiny", iterations=1,
                evaluate_with=(), progress=False)
    f = r.manifest["initializer"]["features"]
    assert f["name"] == "kernel" and f["options"]["kernel"] == "nngp-rf"
    assert f["options"]["width"] == 16  # the tiny preset's RFAD kernel (kernel options flattened)


def test_a_learned_transform_parameterizes_the_support_set_and_its_gradient_is_the_chain_rule():
    m = create_method("kip", reg=1e-3, kernel_options={"gamma": 0.1}, lr_transform=1e-4)
    real, y, syn, ys, ctx = _setup(m)
    assert torch.equal(m.images_of(syn), syn)  # T starts at the identity
    with torch.no_grad():
        m._transform.add_(0.01 * torch.randn(16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    images = m.images_of(syn)
    assert torch.allclose(images.reshape(4, -1), syn.reshape(4, -1) @ m._transform)
    s = images.detach().clone().requires_grad_(True)  # dL/dS at the support set the transform makes
    (grad_images,) = torch.autograd.grad(m.example_losses(s, real, y, 2).mean(), s)
    (grad_transform,) = torch.autograd.grad(m.example_losses(m.images_of(syn), real, y, 2).mean(), m._transform)
    assert torch.allclose(grad_transform, syn.reshape(4, -1).T @ grad_images.reshape(4, -1), atol=1e-12)


def test_rfads_code_parameterization_returns_the_transformed_images_and_resumes(digits, tmp_path,
                                                                                stopped_before_the_end):
    from coredistill.methods.checkpoint import newest_checkpoint

    run = dict(ipc=1, method="rfad", preset="tiny", iterations=5, evaluate_with=(), progress=False,
               method_options={"optimizer": "adabelief", "lr_transform": 5e-4},
               checkpoint_dir=tmp_path / "ck", checkpoint_every=3)
    whole = distill(digits, **run)
    state = newest_checkpoint(tmp_path / "ck")
    transform = state["method"]["transform"]
    assert not torch.equal(transform, torch.eye(64))  # learned
    assert torch.allclose(whole.images.reshape(10, -1), state["images"].reshape(10, -1) @ transform, atol=1e-6)
    stopped_before_the_end(tmp_path / "ck")
    resumed = distill(digits, **run, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 3 and torch.equal(whole.images, resumed.images)
    plain = distill(digits, **{**run, "method_options": {}, "checkpoint_dir": None, "checkpoint_every": 0})
    assert not torch.equal(plain.images, whole.images)


def test_the_added_options_keep_the_hashes_of_runs_stored_before_them():
    assert {"optimizer", "lr_transform"}.isdisjoint(create_method("rfad").options())
    assert create_method("rfad", optimizer="adabelief", lr_transform=5e-5).options()["lr_transform"] == 5e-5


@pytest.mark.parametrize("options, match", [
    ({"optimizer": "sgd"}, "optimizer='sgd': expected one of: adam, adabelief"),
    ({"lr_transform": -1e-5}, r"lr_transform=-1e-05: expected a learning rate >= 0"),
    ({"reg": 0}, "reg=0: expected a positive finite number"),
    ({"loss": "hinge"}, "loss='hinge': expected one of: mse, platt"),
    ({"kernel": "ntk"}, "kernel='ntk'"),
    ({"kernel_options": {"num_models": 0}}, "num_models=0"),
    ({"model_rotation": 0}, "model_rotation=0"),
])
def test_bad_options_are_named(options, match, digits):
    with pytest.raises(InvalidParameterError, match=match):
        distill(digits, ipc=1, method="rfad", preset="tiny", method_options=options, evaluate_with=(),
                progress=False)
