"""A benchmark grid: methods × data sets × IPC × variants × seeds, read from YAML, expanded into cells.

A **variant** says which of the seed's two phases a cell uses, the same way for every method:

==========  ===============================  ==================================
variant     initial images                   real batches
==========  ===============================  ==================================
baseline    random real images               uniform
init        the method's ``seed_init``       uniform
sampling    random real images               the importance sampler
both        the method's ``seed_init``       the importance sampler
==========  ===============================  ==================================

``seed_init`` is k-means sensitivity, or the kernel-fitting (ridge leverage) sensitivity for KRR methods; for a
method whose real batches are in expert training (``real_batches = "experts"``, MTT) the importance sampler
drives the experts' batches. The **selection baselines** (``random``, ``herding``, ...) are cells of method
``none``: real images, no learning. Every cell has a hash of its full configuration (resolved preset defaults
included), so a changed setting never reuses an old result.

>>> grid = Grid.from_dict({"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
...                        "methods": ["dm"], "variants": ["baseline", "both"], "selection": ["random"]})
>>> [(c.method, c.variant, c.init, c.sampler) for c in grid.cells()]
[('none', 'random', 'random', 'uniform'), ('dm', 'baseline', 'random', 'uniform'), ('dm', 'both', 'kmeans-sensitivity', 'relative-loss')]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import config_hash
from ..errors import check_positive_int, invalid
from ..methods import METHODS
from ..presets import get_preset
from ..select import list_initializers

VARIANTS = {"baseline": (False, False), "init": (True, False), "sampling": (False, True), "both": (True, True)}
_KEYS = {"name", "description", "preset", "datasets", "ipc", "seeds", "methods", "variants", "selection",
         "sampler", "method_options", "sampler_options", "dataset_options", "experts", "eval_every", "zca"}
# preset fields that set up the methods rather than the evaluation; a cell hashes its own resolved part of them
_METHOD_FIELDS = ("methods", "methods_by_ipc", "samplers", "experts")
# preset fields that change no result (beyond float summation order, as the thread count): rewording a
# description or training the eval nets stacked must not invalidate finished cells
_DOC_FIELDS = ("description", "eval_ensemble")


@dataclass(frozen=True)
class ExpertSpec:
    """An expert buffer some cells need (one per data set and expert sampler, shared across the cells' seeds)."""

    dataset: str
    sampler: str
    sampler_options: dict[str, Any]
    num_experts: int
    config: dict[str, Any]

    @property
    def hash(self) -> str:
        return config_hash(self.config)

    @property
    def folder_name(self) -> str:
        return f"{self.dataset}-{self.sampler}-{self.hash[:8]}"


@dataclass(frozen=True)
class Cell:
    dataset: str
    ipc: int
    seed: int
    method: str
    variant: str
    init: str
    sampler: str  # the run's batch sampler (uniform for methods whose real batches are in expert training)
    method_options: dict[str, Any]
    sampler_options: dict[str, Any]
    dataset_options: dict[str, Any]
    preset: str
    eval_every: int
    zca_eps: float | None
    experts: ExpertSpec | None
    config: dict[str, Any] = field(repr=False)

    @property
    def hash(self) -> str:
        return config_hash(self.config)

    def label(self) -> str:
        return f"{self.dataset} ipc {self.ipc} seed {self.seed} {self.method}/{self.variant}"


@dataclass(frozen=True)
class Grid:
    name: str
    preset: str
    datasets: list[str]
    ipc: list[int]
    seeds: list[int]
    methods: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))
    selection: list[str] = field(default_factory=list)
    sampler: str = "relative-loss"
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    sampler_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    experts: dict[str, Any] = field(default_factory=lambda: {"num_experts": 5})
    eval_every: int = 0
    zca: dict[str, float] = field(default_factory=dict)  # method -> ZCA eps (as the field reports MTT, KRR)
    description: str = ""

    @classmethod
    def from_dict(cls, raw: Any, source: str = "grid") -> "Grid":
        if not isinstance(raw, dict):
            raise invalid(source, type(raw).__name__, "a mapping with keys name, preset, datasets, ipc, seeds, ...")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise invalid(f"{source} key", unknown[0], "one of: " + ", ".join(sorted(_KEYS)))
        for key in ("name", "preset", "datasets", "ipc", "seeds"):
            if key not in raw:
                raise invalid(f"{source}.{key}", None, "a value (required)")
        grid = cls(**raw)
        grid.check(source)
        return grid

    @classmethod
    def load(cls, path: str | Path) -> "Grid":
        import yaml

        path = Path(path)
        if not path.is_file():
            raise invalid("grid", str(path), "a grid YAML file (see benchmarks/grids/)")
        return cls.from_dict(yaml.safe_load(path.read_text()), source=path.name)

    def check(self, source: str = "grid") -> None:
        get_preset(self.preset)
        for key in ("datasets", "ipc", "seeds", "methods", "variants", "selection"):
            if not isinstance(getattr(self, key), list):
                raise invalid(f"{source}.{key}", getattr(self, key), "a list")
        for value in self.ipc:
            check_positive_int(f"{source}.ipc", value)
        for value in self.seeds:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(f"{source}.seeds", value, "non-negative integers")
        for m in self.methods:
            METHODS.get(m)
        for v in self.variants:
            if v not in VARIANTS:
                raise invalid(f"{source}.variants", v, "one of: " + ", ".join(VARIANTS))
        known = set(list_initializers())
        for s in self.selection:
            if s not in known:
                raise invalid(f"{source}.selection", s, "an initializer: " + ", ".join(sorted(known)))
        if not (self.methods or self.selection):
            raise invalid(f"{source}.methods", self.methods, "at least one method or selection baseline")
        check_positive_int(f"{source}.experts.num_experts", self.experts.get("num_experts"))
        for m, eps in self.zca.items():
            if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
                raise invalid(f"{source}.zca.{m}", eps, "a positive ZCA regularization eps, e.g. 0.1")
        if isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise invalid(f"{source}.eval_every", self.eval_every, "a non-negative integer (0: no curves)")

    def cells(self) -> list[Cell]:
        """All cells, ordered so that every seed's cells of one (data set, IPC) finish close together."""
        preset = get_preset(self.preset)
        eval_part = {k: v for k, v in preset.to_dict().items() if k not in _METHOD_FIELDS + _DOC_FIELDS}
        out = []
        for dataset in self.datasets:
            dopts = dict(self.dataset_options.get(dataset, {}))
            for ipc in self.ipc:
                for seed in self.seeds:
                    for name in self.selection:
                        out.append(self._cell(dataset, dopts, ipc, seed, "none", name, name, "uniform", eval_part))
                    for method in self.methods:
                        for variant in self.variants:
                            use_init, use_sampling = VARIANTS[variant]
                            init = METHODS.get(method).seed_init if use_init else "random"
                            sampler = self.sampler if use_sampling else "uniform"
                            out.append(self._cell(dataset, dopts, ipc, seed, method, variant, init, sampler,
                                                  eval_part))
        return out

    def _cell(self, dataset, dopts, ipc, seed, method, variant, init, sampler, eval_part) -> Cell:
        preset = get_preset(self.preset)
        cls = METHODS.get(method)
        experts = None
        zca_eps = self.zca.get(method)
        if cls.real_batches == "experts":  # the importance sampler acts on expert training; the run's is uniform
            experts = self.expert_spec(dataset, sampler, zca_eps)
            sampler = "uniform"
        method_options = dict(self.method_options.get(method, {}))
        sampler_options = dict(self.sampler_options.get(sampler, {}))
        config = {"dataset": dataset, "dataset_options": dopts, "ipc": ipc, "seed": seed, "method": method,
                  "method_options": {**preset.method_options(method, ipc), **method_options}, "init": init,
                  "sampler": sampler, "sampler_options": {**preset.sampler_options(sampler), **sampler_options},
                  "preset": eval_part, "eval_every": self.eval_every, "zca_eps": zca_eps,
                  "experts": None if experts is None else experts.config}
        return Cell(dataset, ipc, seed, method, variant, init, sampler, method_options, sampler_options, dopts,
                    self.preset, self.eval_every, zca_eps, experts, config)

    def expert_spec(self, dataset: str, sampler: str, zca_eps: float | None) -> ExpertSpec:
        preset = get_preset(self.preset)
        options = dict(self.sampler_options.get(sampler, {}))
        num = self.experts["num_experts"]
        config = {"dataset": dataset, "dataset_options": self.dataset_options.get(dataset, {}), "sampler": sampler,
                  "sampler_options": {**preset.sampler_options(sampler), **options}, "num_experts": num,
                  "model": preset.model, "model_options": preset.model_options, "experts": preset.experts,
                  "zca_eps": zca_eps}
        return ExpertSpec(dataset, sampler, config["sampler_options"], num, config)
