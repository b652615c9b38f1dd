"""``relative-loss``: real batches drawn by each example's relative loss under the predictor the current
synthetic set induces (phase 2 of Tukan, Maalouf & Osadchy 2023; DESIGN §1c).

Every ``refresh`` iterations (and before the first) the sampler fits the predictor on the synthetic set, scores a
pool of real examples per class (the whole class, or ``pool`` random ones) and sets, within each class,

    p_i = ℓ_i^γ / Σ_j ℓ_j^γ   over the kept examples: the lowest-loss fraction ``prune`` and the highest-loss
                              fraction ``drop_hardest`` get p = 0;
    p ← (1 − β)·p + β/n_kept  (coverage).

γ = 1 is the coreset paper's relative loss (hard-favouring), γ = 0 uniform over the kept examples, γ < 0
easy-favouring; ``drop_hardest`` keeps the hardest tail (mislabelled or atypical examples) out at any γ.
Batches are drawn ∝ p without replacement (:func:`~coredistill.draws.pps_sample`); with ``weighted=True`` each
drawn example carries the weight b/(n_kept·π_i) (= 1/(n_kept·p_i) when no example is certain), so that a method's
batch mean of w·f is an unbiased estimate of the mean of f over the examples that can be drawn (p > 0; all of the
pool unless some are removed) — DM's mean embedding, DC's loss:
importance sampling that changes only variance. Without weights the real-side statistic leans towards the
examples p favours.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from ..draws import pps_sample
from ..errors import invalid
from ..params import BOOL, POSITIVE_INT, REAL, fraction, optional
from ..seeding import torch_generator
from .base import SAMPLERS, BatchSampler, ScoringContext
from .losses import PerExampleLoss, checked_losses, resolve_loss
from .predictors import PREDICTORS, ProxyNet

TOP = 8  # most important real examples remembered per class and refresh (for the diagnostics grid)


def relative_loss_probabilities(losses: np.ndarray, beta: float, prune: float, gamma: float = 1.0,
                                drop_hardest: float = 0.0, exclude: np.ndarray | None = None) -> np.ndarray:
    """p ∝ loss^γ within one class, the lowest-loss ``prune`` and highest-loss ``drop_hardest`` fractions and the
    ``exclude``d examples (e.g. the predictor's misclassified ones) removed, smoothed towards uniform over the kept
    examples by β.

    >>> relative_loss_probabilities(np.array([1.0, 1.0, 2.0]), beta=0.0, prune=0.0).tolist()
    [0.25, 0.25, 0.5]
    >>> relative_loss_probabilities(np.array([1.0, 1.0, 2.0]), beta=0.0, prune=0.0, gamma=-1.0).tolist()
    [0.4, 0.4, 0.2]
    """
    n = len(losses)
    order = np.argsort(losses, kind="stable")
    kept = np.ones(n, dtype=bool)
    n_prune, n_drop = int(math.floor(prune * n)), int(math.floor(drop_hardest * n))
    kept[order[:n_prune]] = False
    if n_drop:
        kept[order[n - n_drop:]] = False
    if exclude is not None:
        kept &= ~np.asarray(exclude, dtype=bool)
    if not kept.any():  # a pool too small for both fractions: keep its median example
        kept[order[n // 2]] = True
    if gamma == 1:
        powered = losses
    else:  # a floor keeps a zero loss finite at γ < 0 (and equal to the smallest positive scale)
        floor = max(float(np.mean(losses)) * 1e-6, 1e-12)
        powered = np.maximum(losses, floor) ** gamma
    mass = np.where(kept, powered, 0.0)
    total = mass.sum()
    p = mass / total if total > 0 else kept / kept.sum()
    return np.where(kept, (1 - beta) * p + beta / kept.sum(), 0.0)


def class_diagnostics(p: np.ndarray, losses: np.ndarray, pool: np.ndarray) -> dict[str, Any]:
    """Entropy of p (nats; log n is uniform), the fraction of the pool holding 90 % of the mass, mean loss."""
    nz = p[p > 0]
    ordered = np.sort(p)[::-1]
    k90 = int(np.searchsorted(np.cumsum(ordered), 0.9 - 1e-12) + 1)
    top = pool[np.argsort(-p, kind="stable")[:TOP]]
    return {"entropy": float(-(nz * np.log(nz)).sum()), "max_entropy": float(np.log(len(p))),
            "mass90_fraction": min(k90, len(p)) / len(p), "mean_loss": float(losses.mean()), "pool": len(p),
            "top": [int(i) for i in top]}


@SAMPLERS.decorator("relative-loss")
class RelativeLossSampler(BatchSampler):
    """Importance-sampled real batches by relative loss. Options (all stored as given, checked by :meth:`check`):

    ``refresh`` iterations between re-scorings (``None``: ``refreshes`` evenly spaced re-scorings per run, 4 by
    default, the first before iteration 1); ``pool`` real examples scored per class (``None``: the whole class);
    ``beta`` smoothing towards uniform in [0, 1] (1 = uniform); ``prune`` lowest-loss fraction never drawn, in
    [0, 1); ``gamma`` the exponent of p ∝ ℓ^γ (1: the coreset paper, 0: uniform, < 0: easy-favouring);
    ``gamma_end`` (optional) a curriculum: γ moves linearly from ``gamma`` at the run's start to ``gamma_end`` at its
    end, e.g. ``gamma=-1, gamma_end=0.5`` from easy to somewhat harder examples, evaluated at each re-scoring;
    ``drop_hardest`` highest-loss fraction never drawn, in [0, 1); ``drop_misclassified`` never draw an example
    the predictor assigns to another class (with ``predictor="teacher"``: the teacher's mistakes); ``loss`` a name
    of :data:`~.losses.LOSSES`, a callable ``loss(logits, targets) -> (n,)``, or ``"auto"`` (the predictor's
    ``default_loss`` — squared error for a KRR fit — else cross-entropy); ``weighted`` return importance weights;
    ``predictor`` ``"auto"`` (the learner's own predictor if it has one, e.g. a KRR fit, else ``proxy``), a name
    of :data:`~.predictors.PREDICTORS` (``proxy``, ``teacher``), or an object with ``fit``; ``predictor_options``
    for a named predictor.
    """

    def __init__(self, refresh: int | None = None, pool: int | None = 256, beta: float = 0.2, prune: float = 0.0,
                 loss: str | PerExampleLoss = "auto", weighted: bool = False, predictor: Any = "auto",
                 predictor_options: dict[str, Any] | None = None, score_batch: int = 1024,
                 refreshes: int = 4, gamma: float = 1.0, drop_hardest: float = 0.0,
                 drop_misclassified: bool = False, gamma_end: float | None = None) -> None:
        self.refresh = refresh
        self.refreshes = refreshes
        self.pool = pool
        self.beta = beta
        self.prune = prune
        self.loss = loss
        self.weighted = weighted
        self.predictor = predictor
        self.predictor_options = predictor_options
        self.score_batch = score_batch
        self.gamma = gamma
        self.drop_hardest = drop_hardest
        self.drop_misclassified = drop_misclassified
        self.gamma_end = gamma_end

    # --- options -----------------------------------------------------------------------------------------------
    constraints = {"refresh": optional(POSITIVE_INT), "pool": optional(POSITIVE_INT), "refreshes": POSITIVE_INT,
                   "score_batch": POSITIVE_INT,
                   "beta": fraction().describe("a number in [0, 1] (0: pure relative loss, 1: uniform)"),
                   "prune": fraction(closed_right=False).describe("a fraction in [0, 1)"), "weighted": BOOL,
                   "gamma": REAL.describe("a finite number (\"auto\" is resolved by a run's configuration, "
                                          "for its method and IPC)"),
                   "drop_hardest": fraction(closed_right=False).describe("a fraction in [0, 1)"),
                   "drop_misclassified": BOOL, "gamma_end": optional(REAL)}

    def check(self) -> None:
        self.check_params()
        if self.prune + self.drop_hardest >= 1:
            raise invalid("drop_hardest", self.drop_hardest, f"less than 1 - prune = {1 - self.prune:g} (some "
                          "examples must stay drawable)")
        if self.loss != "auto":
            resolve_loss(self.loss)
        self._make_predictor(None)

    def _make_predictor(self, scoring: ScoringContext | None) -> Any:
        if isinstance(self.predictor, str):
            if self.predictor == "auto":
                own = scoring.predictor if scoring is not None else None
                if own is not None:
                    return own
                predictor = ProxyNet(**(self.predictor_options or {}))
            else:
                predictor = PREDICTORS.create(self.predictor, **(self.predictor_options or {}))
            if hasattr(predictor, "check"):
                predictor.check()
            return predictor
        if not callable(getattr(self.predictor, "fit", None)):
            raise invalid("predictor", self.predictor, "'auto', one of: " + ", ".join(PREDICTORS.names())
                          + ", or an object with fit(images, labels, scoring, generator) -> predict")
        return self.predictor

    def options(self) -> dict[str, Any]:
        out = super().options()
        for key in ("loss", "predictor"):
            if not isinstance(out[key], str):
                out[key] = getattr(out[key], "__name__", type(out[key]).__name__)
        return out

    # --- state -------------------------------------------------------------------------------------------------
    def setup(self, labels: np.ndarray, num_classes: int, seed: int = 0) -> None:
        super().setup(labels, num_classes, seed)
        self._pools = [idx.copy() for idx in self._class_indices]
        self._p = [np.full(len(idx), 1.0 / len(idx)) for idx in self._class_indices]
        self._history: list[dict[str, Any]] = []
        self._seconds = 0.0

    def state_dict(self) -> dict[str, Any]:
        # tensors, not numpy arrays: a checkpoint holds plain data (loaded with weights_only=True), same dtypes
        return {"pools": [torch.from_numpy(p.copy()) for p in self._pools],
                "p": [torch.from_numpy(p.copy()) for p in self._p], "history": list(self._history),
                "seconds": self._seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._pools = [np.asarray(p) for p in state["pools"]]
        self._p = [np.asarray(p) for p in state["p"]]
        self._history = list(state["history"])
        self._seconds = float(state["seconds"])

    @property
    def overhead_seconds(self) -> float:
        return self._seconds

    def probabilities(self, class_index: int) -> tuple[np.ndarray, np.ndarray]:
        """(train-set indices of the pool, their sampling probabilities) for one class."""
        return self._pools[class_index], self._p[class_index]

    def report(self) -> dict[str, Any]:
        return {"scoring_seconds": self._seconds, "refreshes": self._history}

    # --- the work ----------------------------------------------------------------------------------------------
    def interval(self, total: int) -> int:
        return self.refresh if self.refresh is not None else max(1, math.ceil(total / self.refreshes))

    def update(self, *, iteration: int = 0, total: int = 0, images: torch.Tensor | None = None,
               labels: torch.Tensor | None = None, scoring: ScoringContext | None = None, **_: Any) -> None:
        if images is None or scoring is None or iteration >= total or iteration % self.interval(total):
            return
        self.rescore(images, labels, scoring, iteration, total)

    def gamma_at(self, iteration: int, total: int) -> float:
        """The exponent at ``iteration`` of ``total``: ``gamma``, or on the way to ``gamma_end``."""
        if self.gamma_end is None or total <= 0:
            return float(self.gamma)
        return float(self.gamma) + (float(self.gamma_end) - float(self.gamma)) * min(iteration / total, 1.0)

    def rescore(self, images: torch.Tensor, labels: torch.Tensor, scoring: ScoringContext,
                iteration: int = 0, total: int = 0) -> None:
        """Fit the predictor on the synthetic set and recompute p for every class."""
        t0 = time.perf_counter()
        stream = np.random.SeedSequence([self._seed, iteration])
        rng = np.random.default_rng(stream)
        generator = torch_generator(int(stream.generate_state(1)[0]), "cpu")
        predictor = self._make_predictor(scoring)
        loss = getattr(predictor, "default_loss", "cross-entropy") if self.loss == "auto" else self.loss
        self._loss_fn = resolve_loss(loss)
        t_fit = time.perf_counter()
        predict = predictor.fit(images.detach(), labels.detach(), scoring, generator)
        fit_seconds = time.perf_counter() - t_fit  # a teacher's first fit: its training, unless cached
        gamma = self.gamma_at(iteration, total)
        classes = []
        for c, idx in enumerate(self._class_indices):
            pool = idx if self.pool is None or len(idx) <= self.pool else np.sort(
                rng.choice(idx, size=self.pool, replace=False))
            losses, wrong = self._score(predict, scoring, pool, c)
            p = relative_loss_probabilities(losses, float(self.beta), float(self.prune), gamma,
                                            float(self.drop_hardest), wrong if self.drop_misclassified else None)
            self._pools[c], self._p[c] = pool, p
            classes.append(class_diagnostics(p, losses, pool))
        seconds = time.perf_counter() - t0
        self._seconds += seconds
        entry = {"iteration": iteration, "seconds": seconds, "fit_seconds": fit_seconds, "classes": classes}
        if self.gamma_end is not None:
            entry["gamma"] = gamma
        self._history.append(entry)

    def _score(self, predict, scoring: ScoringContext, pool: np.ndarray, class_index: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Per-example losses of the pool, and which examples the predictor assigns to another class."""
        out, wrong = [], []
        for s in range(0, len(pool), self.score_batch):
            chunk = torch.from_numpy(pool[s:s + self.score_batch])
            x = scoring.real_images[chunk].to(scoring.device)
            logits = predict(x)
            targets = torch.full((len(x),), class_index, dtype=torch.long, device=logits.device)
            out.append(checked_losses(self._loss_fn, logits, targets).cpu().numpy())
            wrong.append((logits.argmax(1) != targets).cpu().numpy() if logits.ndim == 2 and logits.shape[1] > 1
                         else np.zeros(len(x), dtype=bool))
        return np.concatenate(out), np.concatenate(wrong)

    def sample(self, class_index, batch_size, rng):
        pool, p = self._pools[class_index], self._p[class_index]
        positions, pi = pps_sample(p, batch_size, rng)
        if not self.weighted:
            return pool[positions], None
        return pool[positions], len(positions) / (np.count_nonzero(p) * pi)


__all__ = ["RelativeLossSampler", "class_diagnostics", "relative_loss_probabilities"]
