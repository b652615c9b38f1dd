"""Options of a registered component, scikit-learn's way: the constructor stores each argument under its own
name and does no work, and :meth:`Params.options` reads them back by the constructor's signature (keyword
catch-alls flattened), so ``type(x)(**x.options())`` rebuilds ``x``; manifests and cache keys record exactly that.
A constructor may store a resolved value (a default kernel's name) when rebuilding from it gives the same options;
the registries' contract tests check that round trip for every entry.

>>> class Toy(Params):
...     def __init__(self, size: int = 3, **extra):
...         self.size = size
...         self.extra = extra
>>> Toy(size=4, colour="red").options()
{'size': 4, 'colour': 'red'}
"""
from __future__ import annotations

import inspect
from typing import Any


class Params:
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
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            else:
                out[name] = value
        return out
