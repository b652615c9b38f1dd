"""Batch samplers for the real side of distillation, one registry."""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import BatchSampler, UniformSampler
from .losses import LOSSES, checked_losses
from .predictors import PREDICTORS, Predictor, ProxyNet
from .relative_loss import RelativeLossSampler

SAMPLERS: Registry[type[BatchSampler]] = Registry("sampler")
SAMPLERS.register("uniform", UniformSampler)
SAMPLERS.register("relative-loss", RelativeLossSampler)


def list_samplers() -> list[str]:
    return SAMPLERS.names()


def create_sampler(name: str, **options: Any) -> BatchSampler:
    return SAMPLERS.create(name, **options)


__all__ = ["LOSSES", "PREDICTORS", "SAMPLERS", "BatchSampler", "Predictor", "ProxyNet", "RelativeLossSampler",
           "UniformSampler", "checked_losses", "create_sampler", "list_samplers"]
