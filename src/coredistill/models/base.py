"""What every model in the zoo provides: ``forward`` and ``embed`` (features before the classifier)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ..errors import invalid
from ..registry import Registry


class Classifier(nn.Module):
    """A feature extractor followed by a linear classifier; ``embed`` returns the features."""

    features: nn.Module
    classifier: nn.Module
    input_shape: tuple[int, int, int]  # (C, H, W) the model was built for; set by create_model

    def _check_input(self, x: torch.Tensor) -> None:
        expected = getattr(self, "input_shape", None)
        if expected is not None and (x.ndim != 4 or tuple(x.shape[1:]) != expected):
            raise invalid("images", tuple(x.shape), f"shape (N, {expected[0]}, {expected[1]}, {expected[2]}) for "
                          f"{type(self).__name__} built with channels={expected[0]}, image_size={expected[1:]}")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return self.features(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))

    @property
    def embed_dim(self) -> int:
        return int(self.classifier.in_features)


@dataclass(frozen=True)
class ModelSpec:
    builder: Callable[..., Classifier]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model")  # entries register where they are defined


def register_model(name: str, builder: Callable[..., Classifier], description: str = "", **defaults: Any) -> None:
    """Register ``builder(channels, num_classes, image_size, **options)`` under ``name`` with default options."""
    MODELS.register(name, ModelSpec(builder, defaults, description))


def has_batch_norm(net: nn.Module) -> bool:
    """Whether ``net`` has batch norm: its statistics couple the samples of a batch (no chunking, no stacking)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


def flat_feature_size(features: nn.Module, channels: int, image_size: tuple[int, int]) -> int:
    """Output size of ``features`` for one input, found by a forward pass on zeros."""
    was_training = features.training
    features.eval()
    with torch.no_grad():
        n = features(torch.zeros(1, channels, *image_size)).flatten(1).shape[1]
    features.train(was_training)
    return int(n)
