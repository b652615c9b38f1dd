"""Options of a registered component, scikit-learn's way.

The constructor stores each argument under its own name and does no work; :meth:`Params.options` reads them back
by the constructor's signature (keyword catch-alls flattened), so ``type(x)(**x.options())`` rebuilds ``x`` and
manifests and cache keys record exactly that. A constructor may store a resolved value (a default kernel's name)
when rebuilding from it gives the same options; the registries' contract tests check that round trip.

Options are validated declaratively: a class lists ``constraints`` (option name -> :class:`Constraint`), merged
along its bases, and :meth:`Params.check_params` checks every option the constructor takes, in one error
format. Checks that depend on the data (a k no larger than the smallest class) stay in the component's own
``check``. An option added after runs were stored is listed in ``added_options``: left at its constructor's
default it stays out of :meth:`Params.options`, so those runs' checkpoints and caches keep their keys.

>>> class Toy(Params):
...     constraints = {"size": POSITIVE_INT}
...     def __init__(self, size: int = 3, **extra):
...         self.size = size
...         self.extra = extra
>>> Toy(size=4, colour="red").options()
{'size': 4, 'colour': 'red'}
>>> Toy(size=0).check_params()
Traceback (most recent call last):
...
coredistill.errors.InvalidParameterError: size=0: expected a positive integer
"""
from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from .errors import invalid


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Constraint:
    """What an option must be: ``expected`` (the error's wording), the ``test``, and one ``bad`` value that fails
    it (for the generated tests)."""

    expected: str
    test: Callable[[Any], bool]
    bad: Any = None

    def check(self, name: str, value: Any) -> None:
        if not self.test(value):
            raise invalid(name, value, self.expected)

    def describe(self, expected: str) -> "Constraint":
        """The same test with other wording (e.g. what a number means)."""
        return Constraint(expected, self.test, self.bad)


POSITIVE_INT = Constraint("a positive integer", lambda v: _is_int(v) and v > 0, 0)
NON_NEGATIVE_INT = Constraint("an integer >= 0", lambda v: _is_int(v) and v >= 0, -1)
CLASS_COUNT = Constraint("an integer of at least 2", lambda v: _is_int(v) and v >= 2, 1)
REAL = Constraint("a finite number", _is_real, float("nan"))
POSITIVE = Constraint("a positive finite number", lambda v: _is_real(v) and v > 0, 0.0)
LEARNING_RATE = POSITIVE.describe("a positive finite learning rate")
NON_NEGATIVE = Constraint("a finite number >= 0", lambda v: _is_real(v) and v >= 0, -1.0)
BOOL = Constraint("True or False", lambda v: isinstance(v, bool), "yes")


def optional(c: Constraint) -> Constraint:
    return Constraint(f"{c.expected} or None", lambda v: v is None or c.test(v), c.bad)


def one_of(*values: Any) -> Constraint:
    return Constraint("one of: " + ", ".join(map(str, values)),
                      lambda v: isinstance(v, type(values[0])) and v in values, "?")


def fraction(*, closed_right: bool = True) -> Constraint:
    """A number in [0, 1] (or [0, 1) with ``closed_right=False``)."""
    hi = "1]" if closed_right else "1)"
    return Constraint(f"a number in [0, {hi}",
                      lambda v: _is_real(v) and 0 <= v and (v <= 1 if closed_right else v < 1), 1.5)


class Params:
    constraints: ClassVar[dict[str, Constraint]] = {}
    # options that stay out of options() while at their constructor's default (added after runs were stored)
    added_options: ClassVar[tuple[str, ...]] = ()

    def options(self) -> dict[str, Any]:
        init = type(self).__init__
        if init is object.__init__:
            return {}
        out: dict[str, Any] = {}
        for name, p in inspect.signature(init).parameters.items():
            if name == "self" or p.kind is inspect.Parameter.VAR_POSITIONAL:
                continue
            if not hasattr(self, name):
                raise AttributeError(f"{type(self).__name__}.__init__ must store its argument {name!r} as "
                                     f"self.{name} (options() reads the constructor's arguments back)")
            value = getattr(self, name)
            if name in self.added_options and type(value) is type(p.default) and value == p.default:
                continue
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            else:
                out[name] = value
        return out

    @classmethod
    def all_constraints(cls) -> dict[str, Constraint]:
        """``constraints`` merged along the bases (a subclass's entry wins)."""
        merged: dict[str, Constraint] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("constraints", {}))
        return merged

    def check_params(self, prefix: str = "") -> None:
        """Check every option the constructor takes against its constraint; ``prefix`` names the owner in errors
        (e.g. ``"proxy "``)."""
        options = self.options()
        for name, constraint in self.all_constraints().items():
            if name in options:
                constraint.check(prefix + name, options[name])
