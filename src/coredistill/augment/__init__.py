"""Differentiable augmentation shared by distillation and evaluation."""
from .dsa import DSA, OPERATIONS, default_strategy

__all__ = ["DSA", "OPERATIONS", "default_strategy"]
