"""Batch samplers for the real side of distillation, one registry."""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import BatchSampler, UniformSampler

SAMPLERS: Registry[type[BatchSampler]] = Registry("sampler")
SAMPLERS.register("uniform", UniformSampler)


def list_samplers() -> list[str]:
    return SAMPLERS.names()


def create_sampler(name: str, **options: Any) -> BatchSampler:
    return SAMPLERS.create(name, **options)


__all__ = ["SAMPLERS", "BatchSampler", "UniformSampler", "create_sampler", "list_samplers"]
