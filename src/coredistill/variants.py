"""Named variants: how a run chooses its initial images and its real batches, the same way for every method.

A variant is data (an initializer, a sampler, their options, static pruning, a feature space), not code: a grid's
cells and a single ``distill`` run read the same entry, so ``distill(ds, ipc=10, method="dc", variant="aligned-both")``
is one cell of the table that measured it. The coreset paper's two phases (Tukan, Maalouf & Osadchy 2023), alone
and together, are the first four; the budget-aware ones are issue 18's (docs/results.md, "Difficulty-aligned
phases"):

================  ==============================================  ==============================================
variant           initial images                                  real batches
================  ==============================================  ==============================================
baseline          random real images                              uniform
init              sensitivity sampling                            uniform
sampling          random real images                              relative loss (a grid's ``sampler``)
both              sensitivity sampling                            relative loss (a grid's ``sampler``)
herding-init      herding                                         uniform
rep-init          ``kmeans-coreset`` (typical, coreset-bounded)   uniform
aligned-sampling  random real images                              ``aligned``: validated for method and IPC
aligned-both      ``kmeans-coreset`` in a teacher's features      ``aligned``
prune             random, the hardest tenth of each class out     uniform, the same tenth out
================  ==============================================  ==============================================

Sensitivity sampling is k-means sensitivity, or the kernel-fitting (ridge leverage) sensitivity for the KRR
methods. A grid may define its own variants beside these names (a mapping with a ``name``; its own definition
wins), and a new built-in is one :func:`register_variant` call.

>>> get_variant("aligned-both").settings("dc")["init"]
'kmeans-coreset'
>>> get_variant("both").settings("rfad")["init"], get_variant("both").settings("rfad")["sampler"]
('kernel-leverage', 'relative-loss')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import invalid
from .registry import Registry

# the seed's phase-2 sampler: what a variant with ``sampler=None`` draws by unless a grid names another
SEED_SAMPLER = "relative-loss"
# the sensitivity initializer of each method family: the kernel-fitting one for methods that fit a kernel
SENSITIVITY_INIT = {"default": "kmeans-sensitivity", "kip": "kernel-leverage", "rfad": "kernel-leverage"}
# what a variant mapping may set (the fields below, less its description)
VARIANT_KEYS = frozenset({"name", "init", "init_options", "sampler", "sampler_options", "method_options", "prune",
                          "prune_options", "init_filter", "init_filter_options", "features", "feature_options"})
# the settings a variant chooses that a caller may also pass; an explicit one that differs is refused
_CHOSEN = ("init", "sampler", "features", "prune", "init_filter")
_MERGED = ("init_options", "sampler_options", "method_options", "prune_options", "init_filter_options",
           "feature_options")


@dataclass(frozen=True)
class Variant:
    """How a run chooses its initial images and real batches. ``init`` is an initializer or a mapping
    ``{method: initializer, "default": initializer}``; ``sampler`` ``None`` means the seed's phase-2 sampler (a
    grid's ``sampler``); ``method_options`` are settings for every method (e.g. ones compared on a validation
    split); ``prune`` removes that fraction of each class's hardest train images by a teacher's loss;
    ``init_filter="teacher-correct"`` lets the initializer choose only among images a teacher gets right;
    ``features`` is the selection feature space (None: the initializer's own)."""

    name: str
    init: str | dict[str, str] = "random"
    sampler: str | None = "uniform"
    init_options: dict[str, Any] = field(default_factory=dict)
    sampler_options: dict[str, Any] = field(default_factory=dict)
    method_options: dict[str, Any] = field(default_factory=dict)
    prune: float = 0.0
    prune_options: dict[str, Any] = field(default_factory=dict)
    init_filter: str | None = None
    init_filter_options: dict[str, Any] = field(default_factory=dict)
    features: str | None = None
    feature_options: dict[str, Any] = field(default_factory=dict)
    description: str = field(default="", compare=False)

    def initializer(self, method: str) -> str:
        return self.init if isinstance(self.init, str) else self.init.get(method, self.init["default"])

    def settings(self, method: str, sampler: str = SEED_SAMPLER) -> dict[str, Any]:
        """The run settings this variant gives ``method`` (``sampler``: what ``sampler=None`` stands for), as
        keyword arguments of :meth:`~coredistill.config.RunConfig.resolve`."""
        return {"init": self.initializer(method), "sampler": sampler if self.sampler is None else self.sampler,
                "features": self.features, "prune": self.prune, "init_filter": self.init_filter,
                **{key: dict(getattr(self, key)) for key in _MERGED}}

    def apply(self, method: str, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` (a caller's settings; ``None`` or absent: not given) over this variant's for ``method``. A
        chosen setting (init, sampler, features, prune, init_filter) the caller also gives must agree with the
        variant's; option mappings merge, the caller's over the variant's."""
        out = self.settings(method)
        for key in _CHOSEN:
            value = given.get(key)
            if value is not None and value != out[key]:
                wanted = "no value" if out[key] is None else repr(out[key])
                raise invalid(key, value, f"{wanted} (variant {self.name!r} sets it) or leave it out")
        for key in _MERGED:
            value = given.get(key)
            if value is not None and not isinstance(value, dict):
                raise invalid(key, value, "a mapping of option names to values")
            out[key] = {**out[key], **(value or {})}
        return out

    @classmethod
    def from_entry(cls, entry: Any, where: str) -> "Variant":
        """A built-in variant's name, or a mapping defining one (``name`` required; keys as :data:`VARIANT_KEYS`)."""
        from .features import FEATURES
        from .sampling.alignment import check_sampler_name
        from .select import INITIALIZERS

        if isinstance(entry, str):
            if entry not in VARIANTS:
                raise invalid(where, entry, "one of: " + ", ".join(VARIANTS.names()) + ", or a mapping with a name")
            return VARIANTS.get(entry)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise invalid(where, entry, "a built-in variant's name or a mapping with keys " + ", ".join(
                sorted(VARIANT_KEYS)) + " (name required)")
        unknown = sorted(set(entry) - VARIANT_KEYS)
        if unknown:
            raise invalid(f"{where} key", unknown[0], "one of: " + ", ".join(sorted(VARIANT_KEYS)))
        variant = cls(**entry)
        if not isinstance(variant.init, str) and "default" not in variant.init:
            raise invalid(f"{where}.init", variant.init, "a mapping with a 'default' initializer")
        for name in [variant.init] if isinstance(variant.init, str) else list(variant.init.values()):
            INITIALIZERS.get(name)
        if variant.sampler is not None:
            check_sampler_name(variant.sampler)
        if variant.features is not None:
            FEATURES.get(variant.features)
        return variant


VARIANTS = Registry[Variant]("variant")
# the coreset paper's four, the default variants of a grid
SEED_VARIANTS = ("baseline", "init", "sampling", "both")


def register_variant(variant: Variant) -> Variant:
    """Add a named variant (checked as a grid's mapping is) for grids, ``distill(variant=...)`` and the CLI."""
    entry = {k: getattr(variant, k) for k in VARIANT_KEYS}
    Variant.from_entry(entry, f"variant {variant.name!r}")
    return VARIANTS.register(variant.name, variant)


def get_variant(name: str) -> Variant:
    return VARIANTS.get(name)


def list_variants() -> list[str]:
    return VARIANTS.names()


# a teacher's features for typical images: ConvNet-3 of the cpu preset's width, the sampler's teacher settings
_TEACHER_FEATURES = {"width": 32}

for _variant in (
        Variant("baseline", description="the field's recipe"),
        Variant("init", dict(SENSITIVITY_INIT),
                description="the coreset paper's phase 1"),
        Variant("sampling", sampler=None,
                description="the coreset paper's phase 2: batches by relative loss"),
        Variant("both", dict(SENSITIVITY_INIT), sampler=None, description="the coreset paper's two phases"),
        Variant("herding-init", "herding", description="herding's initial images"),
        Variant("rep-init", "kmeans-coreset",
                description="typical initial images with the coreset guarantee (nearest each k-means centre)"),
        Variant("aligned-sampling", sampler="aligned",
                description="the real batches each method validated for its IPC"),
        Variant("aligned-both", "kmeans-coreset", sampler="aligned", features="teacher",
                feature_options=dict(_TEACHER_FEATURES),
                description="the budget-aware recipe: rep-init in a teacher's features, aligned batches"),
        Variant("prune", prune=0.1,
                description="each class's hardest tenth by a teacher's loss removed first"),
):
    register_variant(_variant)
