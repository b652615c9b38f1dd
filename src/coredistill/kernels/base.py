"""Kernels for kernel ridge regression methods: one interface, ``kernel(x, y)``; random-feature kernels also
give ``features(x) -> Φ`` with ``kernel(x, y) = scale·Φ(x)Φ(y)ᵀ + bias``.

A kernel is built from options only; :meth:`Kernel.setup` binds it to the data (image shape, data scale) and
:meth:`Kernel.resample` draws its random parts (if any) from a ``torch.Generator``, so a run that records the
draws can recreate them (resume).
"""
from __future__ import annotations

from typing import Any

import torch

from ..params import POSITIVE, Params, optional
from ..registry import Registry


class Kernel(Params):
    random = False  # whether resample() draws anything

    def check(self) -> None:
        """Validate options (the declared ``constraints``); ``setup`` calls it."""
        self.check_params()

    def setup(self, real_images: torch.Tensor, num_classes: int, device: torch.device) -> None:
        """Bind to the data: called once per run with (a sample of) the real training images."""

    def resample(self, seed: int) -> None:
        """Draw the kernel's random parts from ``seed`` (random-feature kernels); deterministic in the seed."""

    def kernel(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


KERNELS: Registry[type[Kernel]] = Registry("kernel")  # entries register where they are defined


@KERNELS.decorator("rbf")
class RBF(Kernel):
    """exp(−γ‖x − y‖²) on flattened images; ``gamma=None``: 1 / (D · mean per-pixel variance of the real data),
    scikit-learn's "scale" rule, so the kernel does not depend on the image size or normalization."""

    constraints = {"gamma": optional(POSITIVE)}

    def __init__(self, gamma: float | None = None) -> None:
        self.gamma = gamma

    def setup(self, real_images, num_classes, device):
        self.check()
        if self.gamma is None:
            flat = real_images.reshape(len(real_images), -1).double()
            self._gamma = float(1.0 / (flat.shape[1] * flat.var().clamp_min(1e-12)))
        else:
            self._gamma = float(self.gamma)

    def kernel(self, x, y):
        a, b = x.reshape(len(x), -1), y.reshape(len(y), -1)
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return torch.exp(-self._gamma * sq.clamp_min(0))
