"""Kernels for the KRR methods (KIP, RFAD) and the KRR solve, one registry."""
from __future__ import annotations

from typing import Any

from ..registry import import_submodules
from .base import KERNELS, RBF, Kernel
from .krr import KRRFit, NumericalError, centered_one_hot, krr_solve
from .nngp import NNGPRandomFeatures

import_submodules(__name__, __path__)  # a kernel registers where it is defined: a new one is one new file


def create_kernel(name: str, **options: Any) -> Kernel:
    return KERNELS.create(name, **options)


__all__ = ["KERNELS", "RBF", "KRRFit", "Kernel", "NNGPRandomFeatures", "NumericalError", "centered_one_hot",
           "create_kernel", "krr_solve"]
