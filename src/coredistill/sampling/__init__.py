"""Batch samplers for the real side of distillation, one registry."""
from __future__ import annotations

from typing import Any

from ..errors import invalid
from ..registry import import_submodules
from .alignment import ALIGNED, sampler_names
from .base import SAMPLERS, BatchSampler, Predictor, ScoringContext, UniformSampler
from .losses import LOSSES, checked_losses
from .predictors import PREDICTORS, ProxyNet
from .relative_loss import RelativeLossSampler
from .teacher import Teacher

import_submodules(__name__, __path__)  # a sampler registers where it is defined: a new one is one new file


def list_samplers() -> list[str]:
    return SAMPLERS.names()


def create_sampler(name: str, **options: Any) -> BatchSampler:
    if name == ALIGNED:
        raise invalid("sampler", name, "a registered sampler here ('aligned' is resolved by a run's configuration, "
                      "for its method and IPC: distill, the CLI or a grid)")
    return SAMPLERS.create(name, **options)


__all__ = ["ALIGNED", "LOSSES", "PREDICTORS", "SAMPLERS", "BatchSampler", "Predictor", "ProxyNet",
           "RelativeLossSampler", "ScoringContext", "Teacher", "UniformSampler", "checked_losses", "create_sampler",
           "list_samplers", "sampler_names"]
