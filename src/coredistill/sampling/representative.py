"""``representative``: real batches of representative examples instead of uniform ones (DREAM, Liu et al.,
ICCV 2023: "Efficient Dataset Distillation by Representative Matching").

Every ``refresh`` iterations (and before the first) each class's batch is chosen anew by a selection rule of
:data:`~coredistill.select.INITIALIZERS` run on the features of a random ``pool`` of the class, and the same batch
serves every draw of the class until the next refresh. The default rule, ``kmeans-centroid``, is DREAM's: k-means
with k = the batch size, and the pool member nearest each center. A uniform batch is a noisy sample of the class; a
batch of cluster representatives covers it evenly and leaves out outliers, so a matching step sees a target close to
the whole class's (DREAM: the same accuracy in far fewer iterations). ``herding`` (the batch whose mean is closest
to the pool's) or ``kmeans-coreset`` (the provable representative rule of rep-init) are other choices.

The features are computed once per run over the whole train split (a feature space of
:data:`~coredistill.features.FEATURES`, cached on disk like a selection's) from a fixed seed, so that every run of
a data set shares them — a ``teacher`` is then trained once. DREAM clusters in the features of the network being
matched; a network trained on the real data (the default, ``teacher``, with the run's architecture) is the stable
version of that space. With ``weighted=True`` each representative carries its cluster's share of the pool
(weights with mean 1), so that a method's weighted batch mean estimates the pool's mean — DM's matched statistic
stays the class mean — rather than the mean of the representatives.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import invalid
from ..params import BOOL, NON_NEGATIVE_INT, POSITIVE_INT, optional
from .base import SAMPLERS, BatchSampler, ScoringContext


@SAMPLERS.decorator("representative")
class RepresentativeSampler(BatchSampler):
    """Representative real batches (DREAM). Options: ``selector`` a name of
    :data:`~coredistill.select.INITIALIZERS` that chooses the batch (default ``kmeans-centroid``: DREAM's nearest
    real image to each k-means center) with ``selector_options``; ``features`` a name of
    :data:`~coredistill.features.FEATURES` the selector works in (default ``teacher``) with ``feature_options``
    (``None``: for ``teacher``, the run's architecture and its options; else the space's defaults) computed from
    ``feature_seed``; ``pool`` real examples per class the selector chooses from at each refresh (``None``: the
    whole class); ``refresh`` iterations between new batches; ``weighted`` give each representative its cluster's
    share of the pool as a weight.
    """

    constraints = {"pool": optional(POSITIVE_INT), "refresh": POSITIVE_INT, "weighted": BOOL,
                   "feature_seed": NON_NEGATIVE_INT}

    def __init__(self, selector: str = "kmeans-centroid", selector_options: dict[str, Any] | None = None,
                 features: str = "teacher", feature_options: dict[str, Any] | None = None, pool: int | None = 512,
                 refresh: int = 1, weighted: bool = False, feature_seed: int = 0) -> None:
        self.selector = selector
        self.selector_options = selector_options
        self.features = features
        self.feature_options = feature_options
        self.pool = pool
        self.refresh = refresh
        self.weighted = weighted
        self.feature_seed = feature_seed

    def check(self) -> None:
        self.check_params()
        self._make_selector()
        from ..features import FEATURES

        if self.features not in FEATURES.names():
            raise invalid("features", self.features, "one of: " + ", ".join(FEATURES.names()))
        if self.features == "encoder":
            raise invalid("features", self.features, "a feature space built from its options (an encoder needs a "
                          "module: compute its features and select with an initializer instead)")

    def _make_selector(self):
        from ..select import INITIALIZERS

        if self.selector not in INITIALIZERS.names():
            raise invalid("selector", self.selector, "one of: " + ", ".join(INITIALIZERS.names()))
        selector = INITIALIZERS.create(self.selector, **(self.selector_options or {}))
        selector.check_params(prefix="selector ")
        return selector

    # --- state -------------------------------------------------------------------------------------------------
    def setup(self, labels: np.ndarray, num_classes: int, seed: int = 0) -> None:
        super().setup(labels, num_classes, seed)
        self._selector_obj = self._make_selector()
        self._feats: np.ndarray | None = None
        self._refreshed_at = 0  # the iteration of the latest refresh: with the seed, it fixes every batch
        self._batches: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}
        self._seconds = 0.0
        self._feature_seconds = 0.0
        self._refreshes = 0

    def state_dict(self) -> dict[str, Any]:
        return {"refreshed_at": self._refreshed_at, "seconds": self._seconds,
                "feature_seconds": self._feature_seconds, "refreshes": self._refreshes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._refreshed_at = int(state["refreshed_at"])
        self._seconds = float(state["seconds"])
        self._feature_seconds = float(state["feature_seconds"])
        self._refreshes = int(state["refreshes"])
        self._batches = {}  # recomputed from the seed and the refresh's iteration: the batches an unbroken run drew

    @property
    def overhead_seconds(self) -> float:
        return self._seconds

    def report(self) -> dict[str, Any]:
        return {"seconds": self._seconds, "feature_seconds": self._feature_seconds,
                "refresh_count": self._refreshes, "selector": self.selector, "features": self.features}

    # --- the work ----------------------------------------------------------------------------------------------
    def prepare(self, scoring: ScoringContext) -> None:
        if self._feats is None:
            self._compute_features(scoring)

    def update(self, *, iteration: int = 0, total: int = 0, **_: Any) -> None:
        if iteration < total and iteration % self.refresh == 0:
            self._refreshed_at = iteration
            self._batches = {}
            self._refreshes += 1

    def _compute_features(self, scoring: ScoringContext) -> None:
        from ..features import cached_features, create_features

        t0 = time.perf_counter()
        options = self.feature_options
        if options is None:
            options = {"model": scoring.model, **scoring.model_options} if self.features == "teacher" else {}
        space = create_features(self.features, **options)
        labels = None if scoring.real_labels is None else np.asarray(scoring.real_labels)
        self._feats = cached_features(space, scoring.real_images, dataset_id=scoring.data_id, seed=self.feature_seed,
                                      device=scoring.device, progress=False, labels=labels)
        seconds = time.perf_counter() - t0
        self._feature_seconds += seconds
        self._seconds += seconds

    def sample(self, class_index, batch_size, rng):
        key = (int(class_index), int(batch_size))
        if key not in self._batches:
            self._batches[key] = self._choose(*key)
        return self._batches[key]

    def _choose(self, class_index: int, batch_size: int) -> tuple[np.ndarray, np.ndarray | None]:
        if self._feats is None:
            raise invalid("sampler", "representative", "prepare(scoring) before the first batch (the loop calls "
                          "it before iteration 1)")
        t0 = time.perf_counter()
        # its own stream: the batch depends on the seed, the refresh and the class, not on what the method drew
        rng = np.random.default_rng(np.random.SeedSequence([self._seed, self._refreshed_at, class_index,
                                                            batch_size]))
        idx = self._class_indices[class_index]
        pool = idx if self.pool is None or len(idx) <= self.pool else np.sort(
            rng.choice(idx, size=self.pool, replace=False))
        if batch_size >= len(pool):
            chosen, weights = rng.permutation(pool), (np.ones(len(pool)) if self.weighted else None)
        else:
            x = np.asarray(self._feats[pool], dtype=np.float64)
            selection = self._selector_obj.select(x, np.zeros(len(pool), dtype=np.int64), batch_size, rng)
            chosen = pool[selection.indices]
            weights = None
            if self.weighted:
                share = np.maximum(np.asarray(selection.weights, dtype=np.float64), 0.0)
                # cluster sizes as shares of the pool, scaled to mean 1; a selector without sizes: equal weights
                weights = share * batch_size / share.sum() if share.sum() > 0 else np.ones(batch_size)
                weights = np.maximum(weights, 1e-12)
        self._seconds += time.perf_counter() - t0
        return chosen, weights


__all__ = ["RepresentativeSampler"]
