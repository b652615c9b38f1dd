"""``none``: no learning; the initial real images are the distilled set (coreset baselines)."""
from __future__ import annotations

from .base import METHODS, Method


@METHODS.decorator("none")
class NoLearning(Method):
    """Zero iterations: the loop returns the initial images unchanged."""

    parallel = "classes"
