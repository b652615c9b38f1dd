"""Random features of the ConvNet NNGP kernel (RFAD: Loo, Hasani, Amini & Rus, NeurIPS 2022).

``num_models`` random ConvNets without normalization layers (width ``width``, the field's depth), weights drawn
He-normal N(0, 2/fan_in) and biases N(0, 0.1²) as RFAD; Φ(x) is the concatenation of their flattened last
feature maps scaled by 1/sqrt(num_models·D), and

    K(x, y) = 2·Φ(x)Φ(y)ᵀ + 0.01      (RFAD's scale and bias; Φ·Φ is the Monte-Carlo NNGP estimate)

The estimate converges to its expectation as ``num_models`` (or ``width``) grows.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..params import POSITIVE, POSITIVE_INT

from ..models import create_model
from ..models.footprint import in_cache_chunks
from ..seeding import spawn, torch_generator
from .base import KERNELS, Kernel


def gaussian_init_(net: nn.Module, generator: torch.Generator) -> nn.Module:
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.1, generator=generator)
    return net


@KERNELS.decorator("nngp-rf")
class NNGPRandomFeatures(Kernel):
    random = True

    def __init__(self, num_models: int = 8, width: int = 128, model: str = "ConvNet", scale: float = 2.0,
                 bias: float = 0.01) -> None:
        self.num_models = num_models
        self.width = width
        self.model = model
        self.scale = scale
        self.bias = bias

    constraints = {"num_models": POSITIVE_INT, "width": POSITIVE_INT, "scale": POSITIVE}

    def setup(self, real_images, num_classes, device):
        self.check()
        self._shape = tuple(real_images.shape[1:])
        self._device = device
        self._nets: list[nn.Module] = []

    def resample(self, seed: int) -> None:
        c, h, w = self._shape
        self._nets = []
        for s in spawn(seed, self.num_models):
            net = create_model(self.model, c, 2, (h, w), seed=s, width=self.width, norm="none")
            net = gaussian_init_(net, torch_generator(s)).to(self._device).eval()
            for p in net.parameters():
                p.requires_grad_(False)
            self._nets.append(net)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if not self._nets:
            raise RuntimeError("NNGPRandomFeatures.resample(seed) must run before features()")
        parts = [in_cache_chunks(net.embed, net, x) for net in self._nets]
        return torch.cat(parts, 1) / math.sqrt(len(parts) * parts[0].shape[1])

    def kernel(self, x, y):
        return self.scale * self.features(x) @ self.features(y).T + self.bias

    def kernel_from_features(self, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
        return self.scale * fx @ fy.T + self.bias
