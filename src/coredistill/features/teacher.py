"""``teacher``: embeddings of a network trained on the real train split (DREAM-style selection: k-means or herding
in a trained network's feature space, where classes and their typical members are separated)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import invalid
from ..params import LEARNING_RATE, NON_NEGATIVE_INT, POSITIVE_INT, optional
from .spaces import FEATURES, FeatureSpace, _chunked


@FEATURES.decorator("teacher")
class TeacherFeatures(FeatureSpace):
    """The penultimate features (``embed``) of ``model`` trained ``epochs`` epochs on the images and their labels
    (the teacher of :mod:`coredistill.sampling.teacher`); ``model_options`` e.g. ``width=32``.

    The teacher trains from the run's features seed, so that a run's seeds replicate the teacher too; ``seed`` fixes
    it instead, and the runs of a seed sweep then share one teacher's features (trained once, cached).
    """

    name = "teacher"
    constraints = {"epochs": POSITIVE_INT, "lr": LEARNING_RATE, "seed": optional(NON_NEGATIVE_INT)}
    added_options = ("seed",)  # the features cached before it existed keep their key

    def __init__(self, model: str = "ConvNet", epochs: int = 10, lr: float = 0.01, batch_size: int = 512,
                 seed: int | None = None, **model_options: Any) -> None:
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.seed = seed
        self.model_options = model_options

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None, labels=None,
                dataset_id=None):
        """With the data's identity (``dataset_id``) the trained network itself is cached too, like a sampler's
        teacher (the same network where the options agree): features recomputed later, or elsewhere from the
        committed teachers, load it instead of training it again."""
        from ..sampling import ScoringContext, Teacher

        self.check_params()
        if labels is None or not isinstance(images, torch.Tensor):
            raise invalid("features", "teacher", "a run whose train images are in memory, with their labels")
        labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        scoring = ScoringContext(images, int(labels.max()) + 1, torch.device(device), self.model,
                                 dict(self.model_options), None, labels, dataset_id)
        teacher = Teacher(epochs=self.epochs, lr=self.lr, seed=seed if self.seed is None else self.seed)
        net = teacher.network(scoring)
        return _chunked(net.embed, images, self.batch_size, device, "teacher features", progress, shard, allocate)
