"""Batch samplers: where the real batches of distillation come from.

A sampler is built once per run with the real labels (``setup``), then asked for per-class batches. Its state is
plain data (checkpointed with the run). Methods never see which sampler they got.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np
import torch

from ..errors import invalid
from ..params import Params
from ..registry import Registry

Predict = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ScoringContext:
    """What a batch sampler may use to score real examples, and nothing else of a run: the real train images
    (in the training space; a tensor or a row view), the number of classes, the device, the architecture a proxy
    predictor trains, the learner's own predictor where it has one (a KRR fit, the expert being trained), and the
    real labels and the data's identity (what a teacher trained on the real data needs, and is cached by)."""

    real_images: Any
    num_classes: int
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    model: str = "ConvNet"
    model_options: dict[str, Any] = field(default_factory=dict)
    predictor: "Predictor | None" = None
    real_labels: torch.Tensor | None = None
    data_id: dict[str, Any] | None = None


class Predictor(Protocol):
    """Fits the predictor a synthetic set induces; ``predict(x)`` returns logits or regression outputs."""

    def fit(self, images: torch.Tensor, labels: torch.Tensor, scoring: ScoringContext,
            generator: torch.Generator) -> Predict: ...


class BatchSampler(Params):
    """Base class: constructors store options only; :meth:`setup` binds the sampler to a data set's labels.

    The loop calls :meth:`update` once before the first iteration (``iteration=0``) and after every iteration,
    with ``total`` (iterations of the run), ``images`` / ``labels`` (the current synthetic set, detached) and
    ``scoring`` (a :class:`ScoringContext`). A sampler's own randomness must come from the
    ``seed`` given to :meth:`setup` (and the iteration), so that a resumed run draws what an uninterrupted one would.
    """

    def setup(self, labels: np.ndarray, num_classes: int, seed: int = 0) -> None:
        labels = np.asarray(labels)
        self._seed = int(seed)
        self._class_indices = [np.flatnonzero(labels == c) for c in range(num_classes)]
        for c, idx in enumerate(self._class_indices):
            if len(idx) == 0:
                raise invalid("labels", f"no example of class {c}", "at least one real example per class")

    def check(self) -> None:
        """Validate options (called before any work): the declared ``constraints``, then what a sampler adds."""
        self.check_params()

    def class_size(self, class_index: int) -> int:
        return len(self._class_indices[class_index])

    def sample(self, class_index: int, batch_size: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """Indices into the train set (all of class ``class_index``) and optional importance weights."""
        raise NotImplementedError

    def prepare(self, scoring: ScoringContext) -> None:
        """Hook called once per run before the first batch, also when a run resumes (where :meth:`update` is not
        called before it): work that depends on the real data only, not on the synthetic set (e.g. features)."""

    def update(self, **context: Any) -> None:
        """Hook called by the loop before the first iteration and after every iteration (see the class doc)."""

    @property
    def overhead_seconds(self) -> float:
        """Seconds this sampler spent on its own work (scoring) so far; the loop reports it as a share."""
        return 0.0

    def report(self) -> dict[str, Any]:
        """Diagnostics for the manifest (JSON-able)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


SAMPLERS: Registry[type[BatchSampler]] = Registry("sampler")  # entries register where they are defined


@SAMPLERS.decorator("uniform")
class UniformSampler(BatchSampler):
    """Uniform real batches without replacement within a batch (the field's ``get_images``); no weights."""

    def sample(self, class_index, batch_size, rng):
        idx = self._class_indices[class_index]
        if batch_size >= len(idx):
            return rng.permutation(idx), None
        return idx[rng.choice(len(idx), size=batch_size, replace=False)], None
