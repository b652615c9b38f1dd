"""Static pruning: before selection and distillation, remove the hardest fraction of each class's real train images
by a teacher's loss (a network trained on the whole real train split) — the mislabelled and most atypical examples
that the data-selection literature keeps out of distillation at every budget. Any method, any initializer."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .presets import Preset
from .sampling import ScoringContext, Teacher


def hardest(train_x: torch.Tensor, y_train: torch.Tensor, num_classes: int, fraction: float, preset: Preset,
            data_id: dict[str, Any], device: torch.device, teacher_options: dict[str, Any] | None = None,
            batch: int = 1024) -> tuple[np.ndarray, dict[str, Any]]:
    """Train-split indices of the ``fraction`` highest-teacher-loss images of every class (floor per class), and
    a record of what was removed."""
    teacher = Teacher(**(teacher_options or {}))
    teacher.check()
    scoring = ScoringContext(train_x, num_classes, device, preset.model, dict(preset.model_options), None, y_train,
                             data_id)
    net = teacher.network(scoring)
    losses = np.empty(len(y_train))
    with torch.inference_mode():
        for s in range(0, len(y_train), batch):
            logits = net(train_x[s:s + batch].to(device))
            losses[s:s + batch] = F.cross_entropy(logits, y_train[s:s + batch].to(device), reduction="none").cpu()
    labels = y_train.numpy()
    drop = []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        n = int(np.floor(fraction * len(members)))
        if n:
            drop.append(members[np.argsort(-losses[members], kind="stable")[:n]])
    dropped = np.sort(np.concatenate(drop)) if drop else np.zeros(0, dtype=np.int64)
    return dropped, {"fraction": fraction, "by": "teacher loss", "teacher": teacher.options(),
                     "dropped": len(dropped), "dropped_indices": dropped.tolist(),
                     "mean_loss_dropped": float(losses[dropped].mean()) if len(dropped) else None,
                     "mean_loss_kept": float(np.delete(losses, dropped).mean())}

