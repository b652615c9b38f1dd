"""Budget-aware batches: the relative-loss sampler configured by the synthetic budget, as validated per method.

Which real examples help depends on the budget (``../shared/RESEARCH.md``): easy, representative ones at a small
IPC, harder ones at a larger IPC, never the hardest tail. A method states what its validation runs chose, per IPC
they were measured at, as the class attribute ``aligned_sampling`` — ``{ipc: relative-loss options}`` (the
predictor that scores, the exponent γ of p ∝ ℓ^γ, the filters), or ``{ipc: None}`` where none beat uniform
batches. ``benchmarks/aligned_rule.py`` derives those choices from the validation explorations, never from test
accuracy. A run asks for them in two ways:

- ``sampler="aligned"``: the options of the measured IPC nearest in log IPC (ties: the smaller IPC), any options
  the caller gives on top — or uniform batches where that IPC's are;
- ``sampler_options={"gamma": "auto"}`` (relative-loss): only the exponent, from the measured IPCs whose other
  options are those of the nearest one — linear in log IPC between two of them, the nearest one's beyond them
  (0, uniform over the sampler's pool, where the nearest IPC's batches are uniform).

Neither claims anything beyond the budgets measured; a method without measurements refuses both.

>>> rule = {1: {"predictor": "teacher", "gamma": -1.0}, 10: {"predictor": "teacher", "gamma": 1.0},
...         50: {"gamma": 1.0}}
>>> aligned_options(rule, 3), aligned_options(rule, 1000)
({'predictor': 'teacher', 'gamma': -0.046}, {'gamma': 1.0})
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import invalid
from .base import SAMPLERS

AUTO = "auto"
ALIGNED = "aligned"


def aligned_gamma(anchors: Mapping[int, float], ipc: int) -> float:
    """γ at ``ipc`` from measured ``anchors`` ({ipc: γ}): interpolated in log IPC, constant beyond them.

    >>> aligned_gamma({1: -1.0, 10: 1.0}, 1), aligned_gamma({1: -1.0, 10: 1.0}, 50)
    (-1.0, 1.0)
    """
    points = sorted((int(k), float(v)) for k, v in anchors.items())
    if ipc <= points[0][0]:
        return points[0][1]
    for (lo, g_lo), (hi, g_hi) in zip(points, points[1:]):
        if ipc <= hi:
            t = (math.log(ipc) - math.log(lo)) / (math.log(hi) - math.log(lo))
            return g_lo + t * (g_hi - g_lo)
    return points[-1][1]


def aligned_options(rule: Mapping[int, Mapping[str, Any] | None], ipc: int) -> dict[str, Any] | None:
    """The relative-loss options at ``ipc``: the nearest measured IPC's (None: uniform batches there), γ
    interpolated (rounded to 3 decimals) over the measured IPCs that share its other options."""
    nearest = min(rule, key=lambda k: (abs(math.log(ipc) - math.log(k)), k))
    if rule[nearest] is None:
        return None
    options = dict(rule[nearest])
    if "gamma" in options:
        rest = {k: v for k, v in options.items() if k != "gamma"}
        alike = {k: o["gamma"] for k, o in rule.items()
                 if o is not None and "gamma" in o and {n: v for n, v in o.items() if n != "gamma"} == rest}
        options["gamma"] = round(aligned_gamma(alike, ipc), 3)
    return options


def _rule(method: str, method_cls: type, option: str, value: str) -> Mapping[int, Mapping[str, Any]]:
    rule = getattr(method_cls, "aligned_sampling", None)
    if not rule:
        raise invalid(option, value, f"a method with batches validated per budget: {method!r} has none "
                      "(its class attribute aligned_sampling is empty); name the sampler and its options instead")
    return rule


def resolve_aligned(sampler: str, options: Mapping[str, Any], method: str, method_cls: type,
                    ipc: int) -> tuple[str, dict[str, Any]]:
    """(sampler, options) with ``"aligned"`` and ``gamma="auto"`` replaced by the method's validated choices at
    ``ipc``; anything else unchanged."""
    options = dict(options)
    if sampler == ALIGNED:
        chosen = aligned_options(_rule(method, method_cls, "sampler", ALIGNED), ipc)
        if chosen is None and options:  # they would reach the uniform sampler, which has no options
            raise invalid("sampler_options", options, f"none with sampler='aligned' for {method!r} at ipc={ipc}: "
                          "its validated rule draws uniform batches at this budget; name sampler='relative-loss' "
                          "to set these options")
        sampler, options = (("uniform", options) if chosen is None
                            else ("relative-loss", {**_without_defaults(chosen), **options}))
    if options.get("gamma") == AUTO:
        chosen = aligned_options(_rule(method, method_cls, "gamma", AUTO), ipc)
        del options["gamma"]
        options.update(_without_defaults({"gamma": 0.0 if chosen is None else chosen.get("gamma", 1.0)}))
    return sampler, options


def _without_defaults(chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's options less those at the relative-loss sampler's defaults: a resolved run is then the same
    configuration (and hash) as the same batches asked for by name."""
    defaults = SAMPLERS.get("relative-loss")().options()
    return {k: v for k, v in chosen.items() if k not in defaults or v != defaults[k]}


def sampler_names() -> list[str]:
    """The samplers a run's configuration accepts: the registered ones, and ``"aligned"``, which it resolves."""
    return [*SAMPLERS.names(), ALIGNED]


def check_sampler_name(name: str) -> None:
    if name not in sampler_names():
        raise invalid("sampler", name, "one of: " + ", ".join(sampler_names()))


__all__ = ["ALIGNED", "AUTO", "aligned_gamma", "aligned_options", "check_sampler_name", "resolve_aligned",
           "sampler_names"]
