"""``gamma="auto"``: the relative-loss sampler's exponent chosen by the synthetic budget.

Which real examples help depends on the budget (``../shared/RESEARCH.md``): easy, representative ones at a small
IPC, harder ones at a larger IPC. A method states the exponents of p ∝ ℓ^γ that its validation runs chose, at the
IPCs they were measured at, as the class attribute ``aligned_gamma`` (``{ipc: γ}``). For another IPC the exponent
moves linearly in log IPC between the two nearest measured ones and stays at the nearest one's outside them — the
rule claims nothing beyond the budgets it was validated at. A method without measurements has no rule: asking it
for ``"auto"`` is an error, not a guess.

>>> aligned_gamma({1: -1.0, 10: 1.0}, 1), aligned_gamma({1: -1.0, 10: 1.0}, 50)
(-1.0, 1.0)
>>> round(aligned_gamma({1: -1.0, 10: 1.0}, 3), 3)  # log 3 / log 10 of the way
-0.046
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import invalid

AUTO = "auto"


def aligned_gamma(anchors: Mapping[int, float], ipc: int) -> float:
    """γ at ``ipc`` from the measured ``anchors`` ({ipc: γ}): interpolated in log IPC, constant beyond them."""
    points = sorted((int(k), float(v)) for k, v in anchors.items())
    if ipc <= points[0][0]:
        return points[0][1]
    for (lo, g_lo), (hi, g_hi) in zip(points, points[1:]):
        if ipc <= hi:
            t = (math.log(ipc) - math.log(lo)) / (math.log(hi) - math.log(lo))
            return g_lo + t * (g_hi - g_lo)
    return points[-1][1]


def resolve_gamma(options: Mapping, method: str, method_cls: type, ipc: int) -> dict:
    """``options`` with ``gamma="auto"`` replaced by the method's validated exponent at ``ipc`` (unchanged when
    the exponent is given as a number)."""
    if options.get("gamma") != AUTO:
        return dict(options)
    anchors = getattr(method_cls, "aligned_gamma", None)
    if not anchors:
        raise invalid("gamma", AUTO, f"a number: method {method!r} has no exponent validated per budget "
                      "(its class attribute aligned_gamma is empty)")
    return {**options, "gamma": aligned_gamma(anchors, ipc)}


__all__ = ["AUTO", "aligned_gamma", "resolve_gamma"]
