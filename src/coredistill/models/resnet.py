"""ResNet-18 for small images (3x3 stem, no initial max-pool), with instance or batch norm."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .base import Classifier, register_model
from .layers import NORMS


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str) -> None:
        super().__init__()
        make_norm = NORMS.get(norm)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = make_norm(out_ch, (1, 1))
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = make_norm(out_ch, (1, 1))
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), make_norm(out_ch, (1, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(Classifier):
    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int], norm: str = "instance") -> None:
        super().__init__()
        if norm == "layer":  # layer norm needs spatial shapes this compact definition does not track
            from ..errors import invalid

            raise invalid("norm", norm, "one of instance, batch, group, none for ResNet18")
        make_norm = NORMS.get(norm)
        layers: list[nn.Module] = [nn.Conv2d(channels, 64, 3, 1, 1, bias=False), make_norm(64, (1, 1)),
                                   nn.ReLU(inplace=True)]
        in_ch = 64
        for out_ch, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(in_ch, out_ch, stride, norm), BasicBlock(out_ch, out_ch, 1, norm)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(512, num_classes)


register_model("ResNet18", ResNet18, "ResNet-18, instance norm", norm="instance")
register_model("ResNet18BN", ResNet18, "ResNet-18, batch norm", norm="batch")
