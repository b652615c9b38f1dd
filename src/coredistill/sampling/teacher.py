"""``teacher``: difficulty judged by a network trained on the real training split, not on the synthetic set.

The relative loss under the synthetic set's proxy ranks real examples by their distance to the current
synthetic images; a teacher that has seen the real data ranks them by how typical they are (the difficulty the
data-selection literature uses: prototypical examples have a low loss, atypical and mislabelled ones a high one).
It is trained once per data set (by its content fingerprint and normalization), architecture and options with
the evaluation protocol's SGD, and cached on disk — atomically, so a killed build is simply redone.

Used as the relative-loss sampler's predictor, e.g. easy-favouring batches without the hard tail::

    sampler_options={"predictor": "teacher", "gamma": -1, "drop_hardest": 0.1}
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..atomic import config_hash, write_with
from ..data.paths import data_dir
from ..errors import invalid
from ..evaluate import train_net
from ..models import create_model
from ..models.footprint import in_cache_chunks
from ..params import LEARNING_RATE, POSITIVE_INT, Params
from ..plain_files import load_plain
from ..seeding import torch_generator
from .base import Predict, ScoringContext
from .predictors import PREDICTORS


class Teacher(Params):
    """A ``scoring.model`` trained ``epochs`` epochs on the whole real training split (SGD, momentum 0.9, weight
    decay 5e-4, lr × 0.1 at half), from ``seed``; cached under ``cache_dir`` (default: the data folder's
    ``teachers/``). Its ``fit`` ignores the synthetic set: the scores are the same at every refresh."""

    constraints = {"epochs": POSITIVE_INT, "lr": LEARNING_RATE, "batch_size": POSITIVE_INT}

    def __init__(self, epochs: int = 10, lr: float = 0.01, batch_size: int = 256, seed: int = 0,
                 cache_dir: str | None = None) -> None:
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.seed = seed
        self.cache_dir = cache_dir

    def check(self) -> None:
        self.check_params(prefix="teacher ")

    def key(self, scoring: ScoringContext) -> str:
        return config_hash({"data": scoring.data_id, "model": scoring.model, "model_options": scoring.model_options,
                            "epochs": self.epochs, "lr": self.lr, "batch_size": self.batch_size, "seed": self.seed})

    def network(self, scoring: ScoringContext) -> torch.nn.Module:
        """The trained teacher for the scoring context's data (loaded from the cache, or trained and cached)."""
        x, y = scoring.real_images, scoring.real_labels
        if not isinstance(x, torch.Tensor) or y is None:
            raise invalid("predictor", "teacher", "a run whose real train images are in memory (not memory-mapped) "
                          "with their labels")
        net = create_model(scoring.model, x.shape[1], scoring.num_classes, tuple(x.shape[2:]), seed=self.seed,
                           **scoring.model_options)
        path = None
        if scoring.data_id is not None:
            folder = Path(self.cache_dir) if self.cache_dir is not None else data_dir() / "teachers"
            path = folder / f"teacher-{self.key(scoring)}.pt"
            if path.is_file():
                try:
                    net.load_state_dict(load_plain(path))
                    return net.to(scoring.device).eval()
                except Exception:  # noqa: BLE001 — an unreadable or foreign cache entry: train again, replace it
                    pass
        net = net.to(scoring.device)
        with torch.enable_grad():
            train_net(net, x.to(scoring.device), y.to(scoring.device), epochs=self.epochs, lr=self.lr,
                      batch_size=self.batch_size, generator=torch_generator(self.seed))
        if path is not None:
            state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
            write_with(path, lambda f: torch.save(state, f))
        return net.eval()

    def fit(self, images: torch.Tensor, labels: torch.Tensor, scoring: ScoringContext,
            generator: torch.Generator) -> Predict:
        trained = self.__dict__.setdefault("_trained", {})  # one run refreshes several times: train (or load) once
        key = self.key(scoring) if scoring.data_id is not None else id(scoring.real_images)
        if key not in trained:
            trained[key] = self.network(scoring)
        net = trained[key]

        def predict(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return in_cache_chunks(net, net, x)

        return predict


PREDICTORS.register("teacher", Teacher)
