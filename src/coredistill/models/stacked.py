"""N nets of one architecture as one model: the protocol's eval nets trained in a single pass per step.

Activations are laid out (B, N·C, H, W) — net n owns channels [n·C, (n+1)·C) — so a convolution becomes one
grouped convolution, instance/group norm one ``group_norm`` with N times the groups, and activations and
pooling run unchanged on all nets at once; after flattening the layout is (B, N, D) and linear layers are one
batched matrix product. Parameters are stacked per layer (N, ...): an element-wise optimizer (SGD with momentum
and weight decay) on them performs exactly each net's own update. Net n's output depends only on net n's
parameters and inputs, so the gradient of the *sum* of the nets' losses is each net's own gradient.

Supported: a :class:`~coredistill.models.base.Classifier` whose ``features`` is an ``nn.Sequential`` of
convolutions, group/instance norms, element-wise activations, pooling, ``Flatten`` and ``Linear`` layers
(the ConvNet family but batch/layer norm, MLP, LeNet, AlexNet, VGG11). Batch norm couples the samples of a
batch and keeps running statistics; residual nets are not sequential: :func:`unsupported_reason` says why a
model cannot be stacked, and the caller trains those nets one after another.

>>> import torch
>>> from coredistill.models import create_model
>>> nets = [create_model("ConvNet", 1, 10, 28, width=8, seed=s) for s in range(3)]
>>> stacked = StackedNets(nets)
>>> x = torch.randn(3, 4, 1, 28, 28)  # one batch of 4 images per net
>>> out = stacked(x)
>>> out.shape, torch.allclose(out[1], nets[1](x[1]), atol=1e-5)
(torch.Size([3, 4, 10]), True)
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .base import Classifier, has_batch_norm
from .layers import AvgPool2x2

# channel-wise layers: correct on the (B, N*C, H, W) layout as they are
_CHANNELWISE = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.AvgPool2d, nn.MaxPool2d, AvgPool2x2, nn.Identity)


def unsupported_reason(net: nn.Module) -> str | None:
    """Why ``net`` cannot be stacked, or ``None`` when it can."""
    if not isinstance(net, Classifier) or not isinstance(net.features, nn.Sequential):
        return f"{type(net).__name__} is not a sequential feature extractor (e.g. residual blocks)"
    if not isinstance(net.classifier, nn.Linear):
        return f"{type(net).__name__}'s classifier is not a single linear layer"
    if has_batch_norm(net):
        return "batch norm couples the samples of a batch and keeps running statistics"
    for m in _leaves(net.features):
        if isinstance(m, nn.Conv2d) and (m.groups != 1 or m.padding_mode != "zeros"):
            return "grouped or non-zero-padded convolutions"
        if not isinstance(m, (nn.Conv2d, nn.GroupNorm, nn.Flatten, nn.Linear, *_CHANNELWISE)):
            return f"layer {type(m).__name__} has no stacked form"
    return None


def _leaves(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


class StackedNets(nn.Module):
    """``len(nets)`` nets of one architecture as one module: input (N, B, C, H, W), output (N, B, classes)."""

    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        if not nets:
            raise ValueError("StackedNets needs at least one net")
        for net in nets:
            reason = unsupported_reason(net)
            if reason is not None:
                raise ValueError(f"cannot stack {type(net).__name__}: {reason}")
        self.count = len(nets)
        self.layers = [_leaves(n.features) + [n.classifier] for n in nets]
        template = self.layers[0]
        if any([type(m) for m in ls] != [type(m) for m in template] for ls in self.layers):
            raise ValueError("StackedNets needs nets of one architecture")
        self.params = nn.ParameterList()
        self._slots: list[dict[str, int]] = []  # per layer: index in params of its stacked weight / bias
        for j, m in enumerate(template):
            slot = {}
            for name in ("weight", "bias"):
                if isinstance(getattr(m, name, None), torch.Tensor):
                    slot[name] = len(self.params)
                    self.params.append(nn.Parameter(torch.stack([getattr(ls[j], name).detach() for ls in self.layers])))
            self._slots.append(slot)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, b = x.shape[:2]
        if n != self.count:
            raise ValueError(f"expected inputs for {self.count} nets, got {n}")
        h = x.transpose(0, 1).reshape(b, n * x.shape[2], *x.shape[3:])  # (B, N*C, H, W)
        flat = False
        for m, slot in zip(self.layers[0], self._slots):
            w = self.params[slot["weight"]] if "weight" in slot else None
            bias = self.params[slot["bias"]] if "bias" in slot else None
            if isinstance(m, nn.Flatten) or (isinstance(m, nn.Linear) and not flat):
                h, flat = h.reshape(b, n, -1), True  # each net's (C, H, W) block, flattened as flatten(1) does
                if isinstance(m, nn.Flatten):
                    continue
            if isinstance(m, nn.Conv2d):
                h = F.conv2d(h, w.flatten(0, 1), _flat(bias), m.stride, m.padding, m.dilation, groups=n)
            elif isinstance(m, nn.GroupNorm):
                h = F.group_norm(h, m.num_groups * n, _flat(w), _flat(bias), m.eps)
            elif isinstance(m, nn.Linear):  # (B, N, D) x (N, K, D) -> (B, N, K)
                h = torch.bmm(h.transpose(0, 1), w.transpose(1, 2))
                h = (h if bias is None else h + bias.unsqueeze(1)).transpose(0, 1)
            else:
                h = m(h)
        return h.transpose(0, 1)  # (N, B, K)

    @torch.no_grad()
    def write_back(self, nets: Sequence[nn.Module]) -> None:
        """Copy the stacked parameters into ``nets`` (the same architecture, e.g. the nets it was built from)."""
        for i, net in enumerate(nets):
            layers = _leaves(net.features) + [net.classifier]
            for m, slot in zip(layers, self._slots):
                for name, k in slot.items():
                    getattr(m, name).copy_(self.params[k][i])


def _flat(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.flatten()
