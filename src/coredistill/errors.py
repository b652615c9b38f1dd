"""Exceptions raised for user errors, and the one message format they share.

Every user-facing error names the parameter, the value it got and what was expected:
``ipc=50: expected at most the smallest class size 12 (class 3)``.
"""
from __future__ import annotations

from typing import Any


class CoredistillError(Exception):
    """Base of every error the library raises for bad input."""


class InvalidParameterError(CoredistillError, ValueError):
    """A parameter has a value outside what the function accepts."""


class DataError(CoredistillError, ValueError):
    """A data file or data set is missing, corrupt or inconsistent."""


class ArtifactError(CoredistillError, ValueError):
    """A saved artifact cannot be written or read back."""


def param_message(name: str, value: Any, expected: str) -> str:
    """The shared format: ``name=value: expected ...``."""
    shown = value if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
    return f"{name}={shown}: expected {expected}"


def invalid(name: str, value: Any, expected: str) -> InvalidParameterError:
    """Build (not raise) an :class:`InvalidParameterError` in the shared format."""
    return InvalidParameterError(param_message(name, value, expected))


class CheckpointError(CoredistillError):
    """A checkpoint cannot be read, or belongs to a different run configuration."""


class DivergenceError(CoredistillError, RuntimeError):
    """The distillation loss or the synthetic images became NaN/Inf."""
