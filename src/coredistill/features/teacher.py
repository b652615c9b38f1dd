"""``teacher``: embeddings of a network trained on the real train split (DREAM-style selection: k-means or herding
in a trained network's feature space, where classes and their typical members are separated)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import invalid
from ..params import LEARNING_RATE, POSITIVE_INT
from .spaces import FEATURES, FeatureSpace, _chunked


@FEATURES.decorator("teacher")
class TeacherFeatures(FeatureSpace):
    """The penultimate features (``embed``) of ``model`` trained ``epochs`` epochs on the images and their labels
    (the teacher of :mod:`coredistill.sampling.teacher`, from ``seed``); ``model_options`` e.g. ``width=32``."""

    name = "teacher"
    constraints = {"epochs": POSITIVE_INT, "lr": LEARNING_RATE}

    def __init__(self, model: str = "ConvNet", epochs: int = 10, lr: float = 0.01, batch_size: int = 512,
                 **model_options: Any) -> None:
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.model_options = model_options

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None, labels=None):
        from ..sampling import ScoringContext, Teacher

        self.check_params()
        if labels is None or not isinstance(images, torch.Tensor):
            raise invalid("features", "teacher", "a run whose train images are in memory, with their labels")
        labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        scoring = ScoringContext(images, int(labels.max()) + 1, torch.device(device), self.model,
                                 dict(self.model_options), None, labels, None)
        net = Teacher(epochs=self.epochs, lr=self.lr, seed=seed).network(scoring)
        return _chunked(net.embed, images, self.batch_size, device, "teacher features", progress, shard, allocate)
