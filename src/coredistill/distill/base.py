"""What a distillation method receives and returns. The engine issue grows this into the shared loop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..data.dataset import ImageDataset


@dataclass
class RealData:
    """The real train set in the training space (normalized, ZCA'd if used) and its class structure."""

    images: torch.Tensor
    labels: torch.Tensor
    dataset: ImageDataset


@dataclass
class DistillOutput:
    images: torch.Tensor
    labels: torch.Tensor
    soft_labels: torch.Tensor | None = None
    learned_lr: float | None = None
    log: dict[str, Any] = field(default_factory=dict)


class Method:
    """A distillation method. ``eval_dsa`` says whether the field evaluates it with DSA augmentation."""

    eval_dsa: bool = False

    def fit(self, images: torch.Tensor, labels: torch.Tensor, real: RealData, *, seed: int,
            device: torch.device, progress: bool = True) -> DistillOutput:
        raise NotImplementedError

    def options(self) -> dict:
        return dict(vars(self))
