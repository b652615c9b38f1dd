"""Per-example losses that score real examples for importance sampling, and the check every loss must pass.

A loss is any callable ``loss(logits, targets) -> (n,)`` of non-negative finite values; ``targets`` are class
indices. Named ones live in :data:`LOSSES` (``--sampler-opt loss=NAME``); a Python callable works as well.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.nn import functional as F

from ..errors import invalid
from ..registry import Registry

PerExampleLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, targets, reduction="none")


def squared_error(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """||f(x) − onehot(y)||² — the KRR methods' loss, on their (regression) outputs."""
    return ((logits - F.one_hot(targets, logits.shape[1]).to(logits.dtype)) ** 2).sum(1)


def margin(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Hinge on the multi-class margin: max(0, 1 − (z_y − max_{k≠y} z_k))."""
    true = logits.gather(1, targets[:, None])[:, 0]
    other = logits.scatter(1, targets[:, None], float("-inf")).max(1).values
    return F.relu(1 - (true - other))


def el2n(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """EL2N, ||softmax(f(x)) − onehot(y)||₂ (Paul, Ganguli & Dziugaite, NeurIPS'21): from a network trained only a
    few epochs, a difficulty score that ranks examples early in training; in [0, √2]."""
    return (F.softmax(logits, 1) - F.one_hot(targets, logits.shape[1]).to(logits.dtype)).norm(dim=1)


LOSSES: Registry[PerExampleLoss] = Registry("loss")
LOSSES.register("cross-entropy", cross_entropy)
LOSSES.register("squared-error", squared_error)
LOSSES.register("margin", margin)
LOSSES.register("el2n", el2n)


def resolve_loss(loss: str | PerExampleLoss) -> PerExampleLoss:
    if isinstance(loss, str):
        return LOSSES.get(loss)
    if not callable(loss):
        raise invalid("loss", loss, "a loss name (" + ", ".join(LOSSES.names()) + ") or a callable "
                      "loss(logits, targets) -> per-example losses")
    return loss


def checked_losses(loss: PerExampleLoss, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Call ``loss`` and insist on what importance sampling needs: shape (n,), finite, non-negative."""
    name = getattr(loss, "__name__", type(loss).__name__)
    values = loss(logits, targets)
    if not isinstance(values, torch.Tensor) or values.shape != (len(targets),):
        shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise invalid("loss", name, f"per-example losses of shape ({len(targets)},) from loss(logits, targets), "
                      f"got {shape}")
    values = values.detach().double()
    if not torch.isfinite(values).all():
        raise invalid("loss", name, f"finite per-example losses, got {int((~torch.isfinite(values)).sum())} NaN/Inf")
    if (values < 0).any():
        raise invalid("loss", name, f"non-negative per-example losses, got minimum {float(values.min()):.4g}")
    return values
