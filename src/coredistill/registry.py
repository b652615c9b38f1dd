"""One small generic registry, used for data sets, models, initializers, methods and presets."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Callable, Generic, Iterator, Sequence, TypeVar

from .errors import invalid

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> entry mapping whose lookup error lists what is available.

    >>> r = Registry[int]("number")
    >>> _ = r.register("one", 1)
    >>> r.get("one")
    1
    >>> r.get("two")
    Traceback (most recent call last):
    ...
    coredistill.errors.InvalidParameterError: number='two': expected one of: one
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def decorator(self, name: str) -> Callable[[T], T]:
        def wrap(entry: T) -> T:
            return self.register(name, entry)

        return wrap

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise invalid(self.kind, name, "one of: " + ", ".join(self.names())) from None

    def create(self, name: str, **options):
        """Look up ``name`` and call it with ``options``; an option it does not take is a named error."""
        factory = self.get(name)
        check_options(factory, options, f"{self.kind} {name!r}")
        try:
            return factory(**options)
        except TypeError as e:
            raise invalid("options", sorted(options), f"options accepted by {self.kind} {name!r} ({e})") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self):
        return self._entries.items()


def import_submodules(package: str, path: Sequence[str]) -> None:
    """Import every module of ``package`` (its ``__path__``), so that an entry registered where it is defined is
    present without another file naming it: adding one is one new module."""
    for info in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{info.name}")


def option_names(fn: Callable) -> list[str] | None:
    """The keyword options ``fn`` takes (its own parameters, ``self`` left out), or None when it takes any
    (``**options``)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]


def check_options(fn: Callable, options: dict, what: str, taken: Sequence[str] = ()) -> None:
    """Refuse an option ``fn`` does not take, naming the ones it does (``taken``: those the caller passes itself).

    >>> def kmeans(k=8, *, seed=0): ...
    >>> check_options(kmeans, {"m": 3}, "init 'kmeans'")
    Traceback (most recent call last):
    ...
    coredistill.errors.InvalidParameterError: options=['m']: expected options accepted by init 'kmeans': k, seed
    """
    names = option_names(fn)
    if names is None:
        return
    accepted = [n for n in names if n not in taken]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise invalid("options", unknown, f"options accepted by {what}: " + (", ".join(accepted) or "none"))


def accepts(fn: Callable, option: str) -> bool:
    """Whether ``fn`` takes the keyword ``option``: a registered entry written before an optional argument existed
    (e.g. a feature space without ``shard``) is called without it instead of failing."""
    params = inspect.signature(fn).parameters
    return option in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
