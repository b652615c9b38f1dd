"""Norm, activation and pooling layers by name (the ConvNet family's options)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import Registry

# above this input size the depthwise-convolution pooling is no faster than avg_pool2d (the crossover measured
# on the development CPU, forward and backward: docs/throughput.md)
CONV_POOL_MAX_BYTES = 24 * 2**20

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

class AvgPool2x2(nn.Module):
    """2x2 average pooling, stride 2 — the same values as ``nn.AvgPool2d(2, 2)``, faster on the CPU.

    On the CPU, for inputs that fit the cache, it runs as a depthwise convolution with a constant 1/4 kernel:
    oneDNN's depthwise kernel is 2-3x faster than ATen's NCHW pooling there, forward and backward; on
    larger tensors oneDNN's layout conversions cost more than they save, and plain ``avg_pool2d`` runs (as it does
    off the CPU). Scaling by 1/4 is exact in floating point and both sum the four taps in the same row-major
    order, so the two paths are bit-identical (tested). No parameters or buffers: state dicts are those of
    ``nn.AvgPool2d``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.ndim != 4 or x.numel() * x.element_size() > CONV_POOL_MAX_BYTES:
            return F.avg_pool2d(x, 2, 2)
        return _DepthwiseAverage.apply(x)


class _DepthwiseAverage(torch.autograd.Function):
    """2x2 / stride-2 averaging as a depthwise convolution, with its adjoint (a transposed depthwise convolution)
    as the backward. Writing the backward out keeps higher-order gradients (gradient and trajectory matching
    differentiate through a network's gradient) first-order convolutions with a constant kernel: autograd's own
    double backward of a convolution also computes a kernel gradient nobody asked for, group by group."""

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, _quarter(x), stride=2, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        # odd sizes: the last row / column takes no part in the average, so its gradient is zero (output_padding)
        return F.conv_transpose2d(grad, _quarter(grad), stride=2, groups=grad.shape[1], output_padding=ctx.pad)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        (x,) = inputs
        ctx.pad = (x.shape[2] % 2, x.shape[3] % 2)


def _quarter(x: torch.Tensor) -> torch.Tensor:
    return x.new_full((x.shape[1], 1, 2, 2), 0.25)


POOLS: Registry[Callable[[], nn.Module]] = Registry("pooling")
POOLS.register("avg", AvgPool2x2)
POOLS.register("max", lambda: nn.MaxPool2d(2, 2))
POOLS.register("none", nn.Identity)
