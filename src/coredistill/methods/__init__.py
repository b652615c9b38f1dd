"""Distillation methods, one registry, and the shared loop."""
from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import Context, DistillOutput, Method, RealData
from .dc import DC, DSAMethod
from .dm import DM
from .krr import KIP, RFAD
from .mtt import MTT
from .loop import LoopSettings, run_loop
from .none import NoLearning

METHODS: Registry[type[Method]] = Registry("method")
METHODS.register("none", NoLearning)
METHODS.register("dm", DM)
METHODS.register("dc", DC)
METHODS.register("dsa", DSAMethod)
METHODS.register("kip", KIP)
METHODS.register("rfad", RFAD)
METHODS.register("mtt", MTT)


def list_methods() -> list[str]:
    return METHODS.names()


def create_method(name: str, **options: Any) -> Method:
    return METHODS.create(name, **options)


__all__ = ["METHODS", "Context", "DistillOutput", "LoopSettings", "Method", "RealData", "create_method",
           "list_methods", "run_loop"]
