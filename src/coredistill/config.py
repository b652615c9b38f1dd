"""One run, resolved once: :class:`RunConfig` merges a preset's defaults with the caller's options, and its
:meth:`~RunConfig.identity` is what a run is hashed, checkpointed, cached and recorded by.

The pipeline (``distill``), the CLI, the demo and the benchmark grid all build their runs here, so a benchmark
cell's hash always describes exactly what the pipeline runs.

>>> cfg = RunConfig.resolve("digits", 1, method="dm", preset="tiny", sampler="relative-loss")
>>> cfg.method_options, cfg.sampler_options, cfg.experts
({'iterations': 4, 'batch_real': 16}, {}, None)
>>> mtt = RunConfig.resolve("digits", 1, method="mtt", preset="tiny", sampler="relative-loss")
>>> mtt.sampler, mtt.experts.sampler  # MTT meets real data only in expert training: the sampler goes there
('uniform', 'relative-loss')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .atomic import config_hash
from .augment.per_image import check_strategy
from .errors import invalid
from .params import NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, fraction, one_of, optional
from .presets import Preset, get_preset
from .sampling.alignment import check_sampler_name, resolve_aligned

ZCA_EPS = POSITIVE.describe("a positive ZCA regularization eps, e.g. 0.1")
INIT_FILTERS = ("teacher-correct",)
# preset fields that set up the methods rather than the evaluation: a run hashes its own resolved part of them
_METHOD_FIELDS = ("methods", "methods_by_ipc", "samplers", "experts")
# preset fields that change no result (beyond float summation order, as the thread count): rewording a
# description or training the eval nets stacked must not invalidate finished runs
_DOC_FIELDS = ("description", "eval_ensemble", "eval_compiled", "citations")
# per-data-set evaluation settings: a run hashes its own data set's entry, and none when there is none (so that the
# field's arrival changed no stored run's hash)
_PER_DATASET_FIELDS = ("eval_augment",)


def preset_identity(preset: Preset, dataset: str) -> dict[str, Any]:
    """The evaluation part of a preset that a run on ``dataset`` depends on."""
    ident = {k: v for k, v in preset.to_dict().items()
             if k not in _METHOD_FIELDS + _DOC_FIELDS + _PER_DATASET_FIELDS}
    for k in _PER_DATASET_FIELDS:
        if getattr(preset, k).get(dataset) is not None:
            ident[k] = getattr(preset, k)[dataset]
    return ident


@dataclass(frozen=True)
class ExpertsConfig:
    """How to train the expert trajectories a run learns from (MTT): built once per data set and sampler, shared
    by every run (seed, IPC) that matches. A run that prunes its data (``prune``) trains its experts on what is
    left: expert training is where such a method sees real data."""

    dataset: str
    dataset_options: dict[str, Any]
    sampler: str
    sampler_options: dict[str, Any]
    num_experts: int
    preset: Preset = field(repr=False)
    zca_eps: float | None = None
    prune: float = 0.0
    prune_options: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        ident = {"dataset": self.dataset, "dataset_options": self.dataset_options, "sampler": self.sampler,
                 "sampler_options": self.sampler_options, "num_experts": self.num_experts,
                 "model": self.preset.model, "model_options": self.preset.model_options,
                 "experts": self.preset.experts, "zca_eps": self.zca_eps}
        if self.prune:  # absent when not pruning: unpruned buffers keep their hashes
            ident["prune"] = [self.prune, self.prune_options]
        return ident

    @property
    def hash(self) -> str:
        return config_hash(self.identity())

    @property
    def folder_name(self) -> str:
        return f"{self.dataset}-{self.sampler}-{self.hash[:8]}"


@dataclass(frozen=True)
class RunConfig:
    """A fully resolved run. ``method_options`` and ``sampler_options`` hold the preset's defaults merged with the
    caller's overrides (the method's own constructor defaults fill in the rest); ``sampler`` draws the run's real
    batches. For a method that learns from expert trajectories, ``experts`` says how to build them (the requested
    sampler drives expert training, and the loop's own sampler is uniform) unless ``method_options["experts"]``
    names a buffer folder."""

    dataset: str
    ipc: int
    method: str
    init: str
    sampler: str
    preset: Preset = field(repr=False)
    seed: int = 0
    method_options: dict[str, Any] = field(default_factory=dict)
    sampler_options: dict[str, Any] = field(default_factory=dict)
    init_options: dict[str, Any] = field(default_factory=dict)
    features: Any = None  # a feature-space name, a FeatureSpace, or None (the initializer's / method's own)
    feature_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    zca_eps: float | None = None
    eval_every: int = 0
    experts: ExpertsConfig | None = None
    # static pruning: the hardest fraction of each class (by a teacher's loss) removed before anything else
    prune: float = 0.0
    prune_options: dict[str, Any] = field(default_factory=dict)
    # phase 1 only: the initializer chooses among the train images a teacher classifies correctly (DATM, PAD)
    init_filter: str | None = None
    init_filter_options: dict[str, Any] = field(default_factory=dict)
    # eval nets of each evaluation along the curve (eval_every); None: the preset's eval_nets, as the final one
    curve_nets: int | None = None
    # what the method's validated rule chose here ("sampler" for sampler="aligned", option names for "auto";
    # sampling.alignment): recorded, not hashed — the resolved values are what the run depends on
    auto: tuple[str, ...] = ()
    # the named variant (coredistill.variants) the settings came from: recorded, not hashed, as ``auto``
    variant: str | None = None

    @classmethod
    def resolve(cls, dataset: str, ipc: int, *, method: str = "none", init: str = "random", sampler: str = "uniform",
                preset: str | Preset = "cpu", seed: int = 0, method_options: dict[str, Any] | None = None,
                sampler_options: dict[str, Any] | None = None, init_options: dict[str, Any] | None = None,
                features: Any = None, feature_options: dict[str, Any] | None = None,
                dataset_options: dict[str, Any] | None = None, zca_eps: float | None = None, eval_every: int = 0,
                iterations: int | None = None, num_experts: int | None = None, prune: float = 0.0,
                prune_options: dict[str, Any] | None = None, init_filter: str | None = None,
                init_filter_options: dict[str, Any] | None = None, curve_nets: int | None = None) -> "RunConfig":
        """Check the names and counts, and merge the preset's defaults for ``method`` at ``ipc`` (and for the
        sampler) with the given options; ``iterations`` overrides the method's iteration count; ``prune`` removes
        that fraction of each class's hardest train images by a teacher's loss (``prune_options``: the teacher's)
        before selection and distillation; ``init_filter="teacher-correct"`` lets the initializer choose only
        among train images a teacher classifies correctly (``init_filter_options``: the teacher's); ``curve_nets``
        trains fewer eval nets for the curve's evaluations than for the final one (cheaper curves on long runs);
        ``sampler="aligned"`` and ``sampler_options={"gamma": "auto"}`` take the batches the method validated for
        this IPC (:mod:`coredistill.sampling.alignment`)."""
        from .methods import METHODS
        from .select import INITIALIZERS

        POSITIVE_INT.check("ipc", ipc)
        NON_NEGATIVE_INT.check("seed", seed)
        NON_NEGATIVE_INT.check("eval_every", eval_every)
        optional(POSITIVE_INT).check("iterations", iterations)
        optional(POSITIVE_INT).check("curve_nets", curve_nets)
        optional(POSITIVE_INT).check("num_experts", num_experts)
        fraction(closed_right=False).describe("a fraction in [0, 1) of each class to remove").check("prune", prune)
        optional(ZCA_EPS).check("zca_eps", zca_eps)
        optional(one_of(*INIT_FILTERS)).check("init_filter", init_filter)
        for name, value in (("method_options", method_options), ("sampler_options", sampler_options),
                            ("init_options", init_options), ("feature_options", feature_options),
                            ("dataset_options", dataset_options), ("prune_options", prune_options),
                            ("init_filter_options", init_filter_options)):
            if value is not None and not isinstance(value, dict):
                raise invalid(name, value, "a mapping of option names to values")
        p = get_preset(preset)
        strategy = p.augment_without_dsa(dataset)
        if strategy is not None:  # checked before any work, not at the evaluation after a long distillation
            check_strategy(f"preset {p.name!r} eval_augment[{dataset!r}]", strategy)
        learner_cls, _ = METHODS.get(method), INITIALIZERS.get(init)
        check_sampler_name(sampler)
        options = {**p.method_options(method, ipc), **(method_options or {})}
        if iterations is not None:
            options["iterations"] = iterations
        asked = sampler
        given = {**p.sampler_options(sampler), **(sampler_options or {})}
        sampler, requested = resolve_aligned(sampler, given, method, learner_cls, ipc)
        if sampler != asked:  # "aligned": the preset's options for the sampler it resolved to, under the rule's
            requested = {**p.sampler_options(sampler), **requested}
        auto = (("sampler",) if sampler != asked else ()) + tuple(k for k in given if given[k] != requested.get(k))
        experts = None
        if getattr(learner_cls, "needs_experts", False):
            if options.get("experts") is not None:
                if sampler != "uniform":
                    raise invalid("sampler", sampler, "'uniform' when the method is given an expert buffer (its "
                                  "real data is the buffer's, drawn by the buffer's own sampler)")
            else:
                if prune and zca_eps is not None:
                    raise invalid("prune", prune, "0 when the method trains experts on ZCA-whitened data (not "
                                  "supported yet: the buffer's whitening would be fit on the pruned split, the "
                                  "run's on the whole one)")
                experts = ExpertsConfig(dataset, dict(dataset_options or {}), sampler, requested,
                                        p.num_experts() if num_experts is None else num_experts, p,
                                        zca_eps, float(prune), dict(prune_options or {}))
                sampler, requested = "uniform", p.sampler_options("uniform")
        return cls(dataset, ipc, method, init, sampler, p, seed, options, requested, dict(init_options or {}),
                   features, dict(feature_options or {}), dict(dataset_options or {}), zca_eps, eval_every, experts,
                   float(prune), dict(prune_options or {}), init_filter, dict(init_filter_options or {}), curve_nets,
                   auto)

    @property
    def real_data_sampler(self) -> str:
        """The sampler that draws this run's real data: the loop's, or the expert training's."""
        return self.experts.sampler if self.experts is not None else self.sampler

    def identity(self) -> dict[str, Any]:
        """What the result depends on (besides the data's content and the machine). Options left at their
        defaults (no init options, the default feature space) stay out, so that a run's hash is the same as
        before those options existed."""
        ident = {"dataset": self.dataset, "dataset_options": self.dataset_options, "ipc": self.ipc,
                 "seed": self.seed, "method": self.method, "method_options": self.method_options, "init": self.init,
                 "sampler": self.sampler, "sampler_options": self.sampler_options,
                 "preset": preset_identity(self.preset, self.dataset), "eval_every": self.eval_every, "zca_eps": self.zca_eps,
                 "experts": None if self.experts is None else self.experts.identity()}
        if self.init_options:
            ident["init_options"] = self.init_options
        if self.prune:
            ident["prune"] = [self.prune, self.prune_options]
        if self.init_filter is not None:
            ident["init_filter"] = [self.init_filter, self.init_filter_options]
        if self.curve_nets is not None and self.eval_every:
            ident["curve_nets"] = self.curve_nets
        if self.features is not None or self.feature_options:
            features = self.features
            if features is not None and not isinstance(features, str):
                features = [features.name, features.options()]
            ident["features"] = [features, self.feature_options]
        return ident

    @property
    def hash(self) -> str:
        return config_hash(self.identity())

    def to_dict(self) -> dict[str, Any]:
        """The identity plus the preset's name, as recorded in an artifact's manifest."""
        out = {**self.identity(), "preset_name": self.preset.name, "hash": self.hash}
        if self.auto:
            out["auto"] = list(self.auto)
        if self.variant is not None:
            out["variant"] = self.variant
        return out
