"""Per-channel normalization and ZCA whitening, each with its inverse (for previews and exports)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import invalid


@dataclass(frozen=True)
class Normalizer:
    """``(x - mean) / std`` per channel, for images in [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != len(self.mean):
            raise invalid("images", tuple(x.shape), f"shape (N, {len(self.mean)}, H, W)")
        m = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        s = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return m, s

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        m, s = self._stats(x)
        return (x - m) / s

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        m, s = self._stats(x)
        return x * s + m

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std)}


class ZCA:
    """ZCA whitening fitted on (normalized) train images, as kornia's ``ZCAWhitening`` used by MTT/DATM.

    ``W = U diag((S + eps)^-1/2) U^T`` from the unbiased covariance of the centred, flattened images; the inverse
    uses ``(S + eps)^1/2``. Fit once on train, apply to train, test and synthetic images alike.

    ``relative=True`` is the KIP/RFAD convention: no centring, covariance ``XᵀX / n`` and the regularizer
    ``eps · tr(cov) / d`` (eps times the mean eigenvalue) in place of ``eps`` — needed to score their released sets.
    """

    def __init__(self, eps: float = 0.1, relative: bool = False) -> None:
        self.eps = eps
        self.relative = relative
        self.mean: torch.Tensor | None = None
        self.transform_matrix: torch.Tensor | None = None
        self.inverse_matrix: torch.Tensor | None = None

    def fit(self, x: torch.Tensor) -> "ZCA":
        if not (isinstance(self.eps, (int, float)) and self.eps > 0):
            raise invalid("eps", self.eps, "a positive number")
        if x.ndim != 4 or len(x) < 2:
            raise invalid("images", tuple(x.shape), "at least two images of shape (C, H, W)")
        flat = x.reshape(len(x), -1).double()
        mean = torch.zeros_like(flat[0]) if self.relative else flat.mean(0)
        centred = flat - mean
        cov = centred.T @ centred / (len(x) if self.relative else len(x) - 1)
        reg = self.eps * torch.trace(cov) / len(cov) if self.relative else self.eps
        eigval, eigvec = torch.linalg.eigh(cov)
        eigval = eigval.clamp_min(0)
        self.mean = mean.float()
        self.transform_matrix = (eigvec * (eigval + reg).rsqrt()) @ eigvec.T
        self.inverse_matrix = (eigvec * (eigval + reg).sqrt()) @ eigvec.T
        self.transform_matrix = self.transform_matrix.float()
        self.inverse_matrix = self.inverse_matrix.float()
        return self

    def _check(self) -> None:
        if self.transform_matrix is None:
            raise RuntimeError("ZCA is not fitted: call fit(train_images) first")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self._check()
        flat = x.reshape(len(x), -1) - self.mean.to(x)
        return (flat @ self.transform_matrix.to(x)).reshape(x.shape)

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        self._check()
        flat = x.reshape(len(x), -1) @ self.inverse_matrix.to(x)
        return (flat + self.mean.to(x)).reshape(x.shape)

    def state_dict(self) -> dict:
        self._check()
        return {"eps": self.eps, "relative": self.relative, "mean": self.mean, "transform": self.transform_matrix,
                "inverse": self.inverse_matrix}

    @classmethod
    def from_state_dict(cls, state: dict) -> "ZCA":
        z = cls(eps=float(state["eps"]), relative=bool(state.get("relative", False)))
        z.mean, z.transform_matrix, z.inverse_matrix = state["mean"], state["transform"], state["inverse"]
        return z
