"""Predictors induced by the current synthetic set, which score real examples for importance sampling.

A predictor has one method, ``fit(images, labels, scoring, generator) -> predict``, where ``predict(x)`` returns
logits (or regression outputs) for real images ``x``. ``proxy`` trains a fresh network of the run's
architecture on the synthetic set for a few epochs (DM, DC, DSA, MTT: the methods have no predictor of their
own); kernel methods pass their KRR fit. Pass any object with that ``fit`` to use your own.
"""
from __future__ import annotations

import torch

from ..params import LEARNING_RATE, POSITIVE_INT
from ..evaluate import train_net
from ..models import create_model
from ..models.footprint import in_cache_chunks
from ..params import Params
from ..registry import Registry
from .base import Predict, Predictor, ScoringContext  # noqa: F401  (Predictor: the protocol, re-exported)


class ProxyNet(Params):
    """A fresh ``scoring.model`` trained ``epochs`` epochs on the synthetic set with the evaluation protocol's SGD
    (momentum 0.9, weight decay 5e-4, lr x0.1 at half), without augmentation.

    Defaults chosen for cost and fit, never on test accuracy: on MNIST (train split, IPC 10 random real images,
    width 32) 20 epochs at lr 0.01 leave the proxy near chance (mean real-pool loss 1.68, p almost uniform:
    entropy 0.999 of the maximum), 20 at lr 0.05 fit it (loss 0.69, 90 % of p on 77 % of the pool) at 40 % of the
    cost of 50 epochs."""

    def __init__(self, epochs: int = 20, lr: float = 0.05, batch_size: int = 256) -> None:
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size

    constraints = {"epochs": POSITIVE_INT, "lr": LEARNING_RATE, "batch_size": POSITIVE_INT}

    def check(self) -> None:
        self.check_params(prefix="proxy ")

    def fit(self, images, labels, scoring: ScoringContext, generator) -> Predict:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        net = create_model(scoring.model, images.shape[1], scoring.num_classes, tuple(images.shape[2:]), seed=seed,
                           **scoring.model_options).to(images.device)
        with torch.enable_grad():
            train_net(net, images, labels, epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                      generator=generator)
        net.eval()

        def predict(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return in_cache_chunks(net, net, x)

        return predict


PREDICTORS: Registry[type] = Registry("predictor")
PREDICTORS.register("proxy", ProxyNet)
