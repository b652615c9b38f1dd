"""Norm, activation and pooling layers by name (the ConvNet family's options)."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..registry import Registry

# A norm factory takes (channels, spatial_shape) — layer norm needs the shape.
NORMS: Registry[Callable[[int, tuple[int, int]], nn.Module]] = Registry("norm")
NORMS.register("instance", lambda c, hw: nn.GroupNorm(c, c, affine=True))  # the field's "instancenorm"
NORMS.register("batch", lambda c, hw: nn.BatchNorm2d(c))
NORMS.register("layer", lambda c, hw: nn.LayerNorm([c, *hw], elementwise_affine=True))
NORMS.register("group", lambda c, hw: nn.GroupNorm(4, c, affine=True))
NORMS.register("none", lambda c, hw: nn.Identity())

ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation")
ACTIVATIONS.register("relu", lambda: nn.ReLU(inplace=True))
ACTIVATIONS.register("leakyrelu", lambda: nn.LeakyReLU(0.01, inplace=True))
ACTIVATIONS.register("sigmoid", nn.Sigmoid)

POOLS: Registry[Callable[[], nn.Module]] = Registry("pooling")
POOLS.register("avg", lambda: nn.AvgPool2d(2, 2))
POOLS.register("max", lambda: nn.MaxPool2d(2, 2))
POOLS.register("none", nn.Identity)
