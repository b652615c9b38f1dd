"""A benchmark grid: methods × data sets × IPC × variants × seeds, read from YAML, expanded into cells.

A **variant** (:mod:`coredistill.variants`) names the initial images and the real-batch sampler a cell uses, the
same way for every method; a grid lists built-in names (by default the coreset paper's four: baseline, init,
sampling, both) or defines its own beside them; a variant's ``sampler: None`` (``sampling``, ``both``) draws by the
grid's ``sampler``. For a method that learns from expert trajectories (MTT) the sampler drives expert training
(:class:`~coredistill.config.RunConfig`)::

    variants:
      - baseline
      - aligned-both
      - {name: easy, sampler: relative-loss, sampler_options: {beta: 0.5}, init: {default: herding}}

The **selection baselines** (``random``, ``herding``, ...) are cells of method ``none``: real images, no
learning. A cell is a resolved :class:`~coredistill.config.RunConfig` plus its variant's name; its hash is the
run's, so a changed setting never reuses an old result.

>>> grid = Grid.from_dict({"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
...                        "methods": ["dm"], "variants": ["baseline", "both"], "selection": ["random"]})
>>> [(c.method, c.variant, c.init, c.sampler) for c in grid.cells()]
[('none', 'random', 'random', 'uniform'), ('dm', 'baseline', 'random', 'uniform'), ('dm', 'both', 'kmeans-sensitivity', 'relative-loss')]
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import ZCA_EPS, RunConfig
from ..errors import invalid
from ..methods import METHODS, curve_iterations
from ..params import BOOL, NON_NEGATIVE_INT, POSITIVE_INT, optional
from ..presets import DEFAULT_NUM_EXPERTS, get_preset
from ..select import INITIALIZERS
from ..variants import SEED_SAMPLER, SEED_VARIANTS, VARIANT_KEYS, Variant

_KEYS = {"name", "description", "preset", "datasets", "ipc", "seeds", "methods", "variants", "selection",
         "sampler", "method_options", "sampler_options", "dataset_options", "experts", "eval_every", "zca",
         "checkpoint_every", "keep_sets", "curve_points", "curve_nets", "preset_methods", "preset_methods_by_ipc"}
# a selection baseline chooses real images and trains on them: no sampler, no method settings
_SELECTION_KEYS = (VARIANT_KEYS - {"sampler", "sampler_options", "method_options"}) | {"seeds"}


def selection_variant(entry: Any, where: str) -> Variant:
    """A selection baseline: an initializer's name (``random``), or a mapping naming it and its settings, e.g.
    ``{name: herding-teacher, init: herding, features: teacher, feature_options: {epochs: 3}}``; a mapping's
    ``seeds`` (see :meth:`Grid.selection_seeds`) choose its cells, not how each runs."""
    if isinstance(entry, str):
        if entry not in INITIALIZERS.names():
            raise invalid(where, entry, "an initializer (" + ", ".join(sorted(INITIALIZERS.names())) +
                          ") or a mapping with keys " + ", ".join(sorted(_SELECTION_KEYS)))
        return Variant(entry, entry)
    if isinstance(entry, dict):
        unknown = sorted(set(entry) - _SELECTION_KEYS)
        if unknown:
            raise invalid(f"{where} key", unknown[0], "one of: " + ", ".join(sorted(_SELECTION_KEYS)))
        if not isinstance(entry.get("init"), str):
            raise invalid(f"{where}.init", entry.get("init"), "the initializer's name")
        entry = {k: v for k, v in entry.items() if k != "seeds"}  # which cells, not how each runs
    return Variant.from_entry(entry, where)


@dataclass(frozen=True)
class Cell:
    """One run of a grid: its variant's name and the resolved run."""

    variant: str
    run: RunConfig

    dataset = property(lambda self: self.run.dataset)
    ipc = property(lambda self: self.run.ipc)
    seed = property(lambda self: self.run.seed)
    method = property(lambda self: self.run.method)
    init = property(lambda self: self.run.init)
    sampler = property(lambda self: self.run.sampler)  # uniform for a method whose real data is its experts'
    experts = property(lambda self: self.run.experts)

    @property
    def config(self) -> dict[str, Any]:
        return self.run.identity()

    @property
    def hash(self) -> str:
        return self.run.hash

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
    variants: list[Any] = field(default_factory=lambda: list(SEED_VARIANTS))  # variant names or mappings
    selection: list[str] = field(default_factory=list)
    sampler: str = SEED_SAMPLER
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    sampler_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    experts: dict[str, Any] = field(default_factory=lambda: {"num_experts": DEFAULT_NUM_EXPERTS})
    eval_every: int = 0
    zca: dict[str, float] = field(default_factory=dict)  # method -> ZCA eps (as the field reports MTT, KRR)
    # checkpoint a cell's distillation every N iterations under out/checkpoints/<hash>/, so that a stopped grid
    # continues inside its long cells (not part of any cell's identity: results do not depend on it)
    checkpoint_every: int = 0
    # save each finished cell's distilled set under out/sets/<hash>/ (to score it under another protocol, export
    # it, look at it); otherwise a cell keeps only its record
    keep_sets: bool = False
    # instead of one eval_every for all: this many evenly spaced evaluations in every cell's run (methods whose
    # budgets differ by 100x in one grid, as in the reproduce grid)
    curve_points: int = 0
    # eval nets of each curve evaluation (None: the preset's, as the final evaluation)
    curve_nets: int | None = None
    # the preset's method settings as this grid ran against them, for the methods named: a tuning grid compares
    # settings against "the preset" of its day, and a later retuning of the preset must not change its cells
    preset_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset_methods_by_ipc: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
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
        try:
            spec = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            where = getattr(e, "problem_mark", None)
            at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
            raise invalid("grid", str(path), f"valid YAML ({getattr(e, 'problem', None) or e}{at})") from None
        return cls.from_dict(spec, source=path.name)

    def check(self, source: str = "grid") -> None:
        get_preset(self.preset)
        for key in ("preset_methods", "preset_methods_by_ipc"):
            for m in getattr(self, key):
                METHODS.get(m)
        for m in self.preset_methods_by_ipc:
            if m not in self.preset_methods:
                raise invalid(f"{source}.preset_methods_by_ipc", m, "a method also named in preset_methods (its "
                              "settings at every IPC)")
        for key in ("datasets", "ipc", "seeds", "methods", "variants", "selection"):
            if not isinstance(getattr(self, key), list):
                raise invalid(f"{source}.{key}", getattr(self, key), "a list")
        for value in self.ipc:
            POSITIVE_INT.check(f"{source}.ipc", value)
        for value in self.seeds:
            NON_NEGATIVE_INT.check(f"{source}.seeds", value)
        for m in self.methods:
            METHODS.get(m)
        names = [Variant.from_entry(v, f"{source}.variants").name for v in self.variants]
        if len(set(names)) != len(names):
            raise invalid(f"{source}.variants", names, "variants with distinct names")
        names = [selection_variant(s, f"{source}.selection").name for s in self.selection]
        if len(set(names)) != len(names):
            raise invalid(f"{source}.selection", names, "selection baselines with distinct names")
        for entry in self.selection:
            self._check_selection_seeds(entry, source)
        if not (self.methods or self.selection):
            raise invalid(f"{source}.methods", self.methods, "at least one method or selection baseline")
        POSITIVE_INT.check(f"{source}.experts.num_experts", self.experts.get("num_experts"))
        for m, eps in self.zca.items():
            ZCA_EPS.check(f"{source}.zca.{m}", eps)
        NON_NEGATIVE_INT.describe("a non-negative integer (0: no curves)").check(f"{source}.eval_every",
                                                                              self.eval_every)
        NON_NEGATIVE_INT.describe("a non-negative integer (0: no checkpoints)").check(
            f"{source}.checkpoint_every", self.checkpoint_every)
        BOOL.check(f"{source}.keep_sets", self.keep_sets)
        NON_NEGATIVE_INT.describe("a non-negative integer (0: no curves)").check(f"{source}.curve_points",
                                                                              self.curve_points)
        if self.curve_points and self.eval_every:
            raise invalid(f"{source}.curve_points", self.curve_points, "0 when eval_every is set (one or the other)")
        optional(POSITIVE_INT).check(f"{source}.curve_nets", self.curve_nets)

    def resolved_preset(self):
        """The preset the cells run: the named one, with the method settings this grid froze (if any)."""
        base = get_preset(self.preset)
        if not self.preset_methods:
            return base
        by_ipc = {m: o for m, o in base.methods_by_ipc.items() if m not in self.preset_methods}
        by_ipc.update({m: {int(k): dict(v) for k, v in o.items()} for m, o in self.preset_methods_by_ipc.items()})
        return base.with_overrides(methods={**base.methods, **self.preset_methods}, methods_by_ipc=by_ipc)

    def selection_names(self) -> list[str]:
        """The selection baselines' names (cells of method ``none``), in the grid's order."""
        return [selection_variant(s, "selection").name for s in self.selection]

    def variant_names(self) -> list[str]:
        """The variants' names, in the grid's order (entries may be built-in names or mappings)."""
        return [Variant.from_entry(v, "variants").name for v in self.variants]

    def cells(self) -> list[Cell]:
        """All cells, ordered so that the cells of every random seed of one (data set, IPC) finish close together."""
        variants = [Variant.from_entry(v, "variants") for v in self.variants]
        preset = self.resolved_preset()
        out = []
        for dataset in self.datasets:
            for ipc in self.ipc:
                draws = {i: self.selection_seeds(entry, ipc) for i, entry in enumerate(self.selection)}
                for seed in dict.fromkeys(self.seeds + [s for seeds in draws.values() for s in seeds]):
                    for i, entry in enumerate(self.selection):
                        if seed in draws[i]:
                            out.append(self._cell(preset, dataset, ipc, seed, "none",
                                                  selection_variant(entry, "selection")))
                    if seed not in self.seeds:
                        continue
                    for method in self.methods:
                        out.extend(self._cell(preset, dataset, ipc, seed, method, v) for v in variants)
        return out

    def selection_seeds(self, entry: Any, ipc: int) -> list[int]:
        """The seeds of a selection baseline's cells at ``ipc``: the entry's own ``seeds`` (a list, or a mapping
        {ipc: list} with the grid's seeds at the IPCs it does not name), else the grid's."""
        seeds = entry.get("seeds", self.seeds) if isinstance(entry, dict) else self.seeds
        return seeds.get(ipc, self.seeds) if isinstance(seeds, dict) else seeds

    def _check_selection_seeds(self, entry: Any, source: str) -> None:
        if not isinstance(entry, dict) or "seeds" not in entry:
            return
        where = f"{source}.selection.{entry['name']}.seeds"
        seeds = entry["seeds"]
        for ipc, listed in (seeds.items() if isinstance(seeds, dict) else [(None, seeds)]):
            at = where + ("" if ipc is None else f".{ipc}")
            if ipc is not None and ipc not in self.ipc:
                raise invalid(at, ipc, "one of the grid's ipc: " + ", ".join(map(str, self.ipc)))
            if not isinstance(listed, list) or not listed:
                raise invalid(at, listed, "a non-empty list of seeds")
            for value in listed:
                NON_NEGATIVE_INT.check(at, value)

    def _cell(self, preset, dataset: str, ipc: int, seed: int, method: str, variant: Variant) -> Cell:
        run = variant.settings(method, self.sampler)
        sampler = run["sampler"]
        run["method_options"] = {**self.method_options.get(method, {}), **run["method_options"]}
        run["sampler_options"] = {**self.sampler_options.get(sampler, {}), **run["sampler_options"]}
        run = RunConfig.resolve(
            dataset, ipc, method=method, preset=preset, seed=seed,
            dataset_options=dict(self.dataset_options.get(dataset, {})), zca_eps=self.zca.get(method),
            eval_every=self.eval_every, num_experts=self.experts["num_experts"], curve_nets=self.curve_nets, **run)
        if self.curve_points and method != "none":  # evenly spaced over the run's own (resolved) iterations
            iterations = run.method_options.get("iterations", 0)
            every = max(1, iterations // (self.curve_points + 1)) if iterations > self.curve_points else 0
            while every and len(curve_iterations(iterations, every)) > self.curve_points:
                every += 1  # iterations // (points + 1) can leave room for one more point than asked
            run = replace(run, eval_every=every)
        return Cell(variant.name, run)
