"""Augmentation: differentiable DSA, shared by distillation and evaluation, and the field's per-image
augmentation for evaluations without DSA."""
from .dsa import DSA, OPERATIONS, default_strategy
from .per_image import PerImageAugment

__all__ = ["DSA", "OPERATIONS", "PerImageAugment", "default_strategy"]
