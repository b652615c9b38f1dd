"""Batch samplers: where the real batches of distillation come from.

A sampler is built once per run with the real labels (``setup``), then asked for per-class batches. Its state is
plain data (checkpointed with the run). Methods never see which sampler they got.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import invalid


class BatchSampler:
    """Base class: constructors store options only; :meth:`setup` binds the sampler to a data set's labels.

    The loop calls :meth:`update` once before the first iteration (``iteration=0``) and after every iteration,
    with ``total`` (iterations of the run), ``images`` / ``labels`` (the current synthetic set, detached) and
    ``ctx`` (the run's :class:`~coredistill.methods.Context`). A sampler's own randomness must come from the
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
        """Validate options (called before any work)."""

    def class_size(self, class_index: int) -> int:
        return len(self._class_indices[class_index])

    def sample(self, class_index: int, batch_size: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """Indices into the train set (all of class ``class_index``) and optional importance weights."""
        raise NotImplementedError

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

    def options(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class UniformSampler(BatchSampler):
    """Uniform real batches without replacement within a batch (the field's ``get_images``); no weights."""

    def sample(self, class_index, batch_size, rng):
        idx = self._class_indices[class_index]
        if batch_size >= len(idx):
            return rng.permutation(idx), None
        return idx[rng.choice(len(idx), size=batch_size, replace=False)], None
