"""Kernel ridge regression: a numerically careful solve and the predictor a support set induces.

    f(x) = K(x, S) (K(S, S) + λ I)⁻¹ Y_S,      λ = reg · tr(K(S, S)) / |S|   (KIP / RFAD's relative rule)

The system is solved in float64 by Cholesky; if it is not numerically positive definite the jitter grows ×10
up to ``MAX_JITTER_STEPS`` times, then a :class:`NumericalError` names the regularization to raise.
"""
from __future__ import annotations

import torch

from ..errors import CoredistillError, invalid

MAX_JITTER_STEPS = 6


class NumericalError(CoredistillError, RuntimeError):
    """A linear system could not be solved stably."""


def check_reg(reg: float) -> float:
    if isinstance(reg, bool) or not isinstance(reg, (int, float)) or not 0 < reg < float("inf"):
        raise invalid("reg", reg, "a positive finite number (λ = reg · tr(K_SS) / |S|)")
    return float(reg)


def krr_solve(k_ss: torch.Tensor, y: torch.Tensor, reg: float) -> torch.Tensor:
    """α = (K_SS + λI)⁻¹ Y in float64, differentiable in both K_SS and Y."""
    reg = check_reg(reg)
    k = k_ss.double()
    n = k.shape[0]
    eye = torch.eye(n, dtype=k.dtype, device=k.device)
    scale = (torch.trace(k) / n).abs().clamp_min(1e-30)  # not detached: RFAD differentiates through λ too
    lam = reg * scale
    for _ in range(MAX_JITTER_STEPS + 1):
        chol, info = torch.linalg.cholesky_ex(k + lam * eye)
        if int(info) == 0:
            return torch.cholesky_solve(y.double(), chol)
        lam = lam * 10
    raise NumericalError(f"reg={reg}: the kernel system of {n} support points is singular even with "
                         f"λ = {float(lam / 10):.3g} (10^{MAX_JITTER_STEPS} times reg·tr(K)/n): expected a larger reg, "
                         "or support images that are not (near-)duplicates")


def centered_one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """RFAD / KIP regression targets: one-hot minus 1/C."""
    return torch.nn.functional.one_hot(labels.long(), num_classes).double() - 1.0 / num_classes


class KRRFit:
    """The predictor of a support set: ``predict(x) = K(x, S) α`` (float64)."""

    def __init__(self, kernel, support: torch.Tensor, targets: torch.Tensor, reg: float) -> None:
        self.kernel = kernel
        self.support = support.detach()
        self.alpha = krr_solve(kernel.kernel(self.support, self.support), targets.detach(), reg).detach()

    def __call__(self, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        outs = []
        with torch.no_grad():
            for s in range(0, len(x), batch_size):
                outs.append(self.kernel.kernel(x[s:s + batch_size], self.support).double() @ self.alpha)
        return torch.cat(outs)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> float:
        return float((self(x).argmax(1).cpu() == y.cpu()).double().mean())
