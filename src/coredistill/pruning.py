"""Real data judged by a teacher (a network trained on the whole real train split), for any method and initializer.

Static pruning (``hardest``): before selection and distillation, remove the hardest fraction of each class by the
teacher's score — the mislabelled and most atypical examples that the data-selection literature keeps out of
distillation at every budget. The score is the teacher's cross-entropy unless the options name another per-example
loss (``{"score": "el2n", "epochs": 2}``: EL2N at an early epoch). The teacher-correct filter (``teacher_correct``): the initializer chooses only among
the images the teacher classifies correctly; distillation still sees every image."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .errors import invalid
from .models.footprint import in_cache_chunks
from .presets import Preset
from .sampling import LOSSES, ScoringContext, Teacher


def teacher_scores(train_x: torch.Tensor, y_train: torch.Tensor, num_classes: int, preset: Preset,
                   data_id: dict[str, Any], device: torch.device, teacher_options: dict[str, Any] | None = None,
                   batch: int = 1024) -> tuple[np.ndarray, np.ndarray, Teacher]:
    """Every train image's score and predicted class under the (cached) teacher trained on the train split.

    ``teacher_options``: the :class:`~coredistill.sampling.Teacher`'s, and ``score``, a name of
    :data:`~coredistill.sampling.LOSSES` (default ``cross-entropy``)."""
    options = dict(teacher_options or {})
    score = options.pop("score", "cross-entropy")
    if not isinstance(score, str) or score not in LOSSES:
        raise invalid("score", score, "a per-example loss to score the train images by: " + ", ".join(LOSSES.names()))
    loss = LOSSES.get(score)
    teacher = Teacher(**options)
    teacher.check()
    scoring = ScoringContext(train_x, num_classes, device, preset.model, dict(preset.model_options), None, y_train,
                             data_id)
    net = teacher.network(scoring)
    losses = np.empty(len(y_train))
    predicted = np.empty(len(y_train), dtype=np.int64)
    with torch.inference_mode():
        for s in range(0, len(y_train), batch):
            logits = in_cache_chunks(net, net, train_x[s:s + batch].to(device))
            losses[s:s + batch] = loss(logits, y_train[s:s + batch].to(device)).cpu()
            predicted[s:s + batch] = logits.argmax(1).cpu()
    return losses, predicted, teacher


def hardest(train_x: torch.Tensor, y_train: torch.Tensor, num_classes: int, fraction: float, preset: Preset,
            data_id: dict[str, Any], device: torch.device, teacher_options: dict[str, Any] | None = None
            ) -> tuple[np.ndarray, dict[str, Any]]:
    """Train-split indices of the ``fraction`` highest-scoring images of every class by the teacher (floor per
    class; :func:`teacher_scores` for the options), and a record of what was removed."""
    losses, _, teacher = teacher_scores(train_x, y_train, num_classes, preset, data_id, device, teacher_options)
    labels = y_train.numpy()
    drop = []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        n = int(np.floor(fraction * len(members)))
        if n:
            drop.append(members[np.argsort(-losses[members], kind="stable")[:n]])
    dropped = np.sort(np.concatenate(drop)) if drop else np.zeros(0, dtype=np.int64)
    return dropped, {"fraction": fraction, "by": "teacher loss",
                     "score": (teacher_options or {}).get("score", "cross-entropy"), "teacher": teacher.options(),
                     "dropped": len(dropped), "dropped_indices": dropped.tolist(),
                     "mean_loss_dropped": float(losses[dropped].mean()) if len(dropped) else None,
                     "mean_loss_kept": float(np.delete(losses, dropped).mean())}


def teacher_correct(train_x: torch.Tensor, y_train: torch.Tensor, num_classes: int, ipc: int, preset: Preset,
                    data_id: dict[str, Any], device: torch.device, teacher_options: dict[str, Any] | None = None
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """Train-split indices the teacher classifies correctly — the candidates of a teacher-correct initialization
    (DATM, PAD). A class with fewer than ``ipc`` correct images keeps its ``ipc`` lowest-loss ones instead (so
    every class can still be initialized); the record says which classes did."""
    losses, predicted, teacher = teacher_scores(train_x, y_train, num_classes, preset, data_id, device,
                                                teacher_options)
    labels = y_train.numpy()
    keep, short = [], []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        correct = members[predicted[members] == c]
        if len(correct) < ipc:
            short.append(c)
            correct = members[np.argsort(losses[members], kind="stable")[:ipc]]
        keep.append(correct)
    kept = np.sort(np.concatenate(keep))
    return kept, {"name": "teacher-correct", "teacher": teacher.options(), "candidates": len(kept),
                  "of": len(labels), "classes_below_ipc": short}
