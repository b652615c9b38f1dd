"""Distillation methods, one registry."""
from __future__ import annotations

from typing import Any

from ..errors import invalid
from ..registry import Registry
from .base import DistillOutput, Method, RealData
from .none import NoLearning

METHODS: Registry[type[Method]] = Registry("method")
METHODS.register("none", NoLearning)


def list_methods() -> list[str]:
    return METHODS.names()


def create_method(name: str, **options: Any) -> Method:
    cls = METHODS.get(name)
    try:
        return cls(**options)
    except TypeError as e:
        raise invalid("options", sorted(options), f"options accepted by {name!r} ({e})") from None


__all__ = ["METHODS", "DistillOutput", "Method", "RealData", "create_method", "list_methods"]
