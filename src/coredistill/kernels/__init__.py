"""Kernels for the KRR methods (KIP, RFAD) and the KRR solve, one registry."""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import RBF, Kernel
from .krr import KRRFit, NumericalError, centered_one_hot, krr_solve
from .nngp import NNGPRandomFeatures

KERNELS: Registry[type[Kernel]] = Registry("kernel")
KERNELS.register("nngp-rf", NNGPRandomFeatures)
KERNELS.register("rbf", RBF)


def create_kernel(name: str, **options: Any) -> Kernel:
    return KERNELS.create(name, **options)


__all__ = ["KERNELS", "RBF", "KRRFit", "Kernel", "NNGPRandomFeatures", "NumericalError", "centered_one_hot",
           "create_kernel", "krr_solve"]
