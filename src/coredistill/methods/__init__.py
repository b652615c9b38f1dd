"""Distillation methods, one registry, and the shared loop. A method registers where it is defined
(``@METHODS.decorator("name")``); every module of this package is imported, so a new method is one new file."""
from __future__ import annotations

from typing import Any

from ..registry import import_submodules
from .base import METHODS, Context, DistillOutput, Method, RealData
from .none import NoLearning  # noqa: F401  (imported first: the listing's order)
from .dm import DM  # noqa: F401
from .dc import DC, DSAMethod  # noqa: F401
from .krr import KIP, RFAD  # noqa: F401
from .mtt import MTT  # noqa: F401
from .loop import LoopSettings, curve_iterations, run_loop

import_submodules(__name__, __path__)


def list_methods() -> list[str]:
    return METHODS.names()


def create_method(name: str, **options: Any) -> Method:
    return METHODS.create(name, **options)


__all__ = ["METHODS", "Context", "DistillOutput", "LoopSettings", "Method", "RealData", "create_method",
           "curve_iterations", "list_methods", "run_loop"]
