"""Randomness: one run seed split into named child seeds; never touches global RNG state for good.

Model constructors in torch draw from the global generator. :func:`isolated_torch_rng` runs such code
under a given seed inside ``torch.random.fork_rng``, so the caller's global state is unchanged afterwards.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import numpy as np
import torch


def child_seeds(seed: int, names: Sequence[str]) -> dict[str, int]:
    """Derive one independent 32-bit seed per name from ``seed`` (stable across runs and machines).

    >>> child_seeds(0, ["select", "eval"]) == child_seeds(0, ["select", "eval"])
    True
    """
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {name: int(c.generate_state(1, dtype=np.uint32)[0]) for name, c in zip(names, children)}


def spawn(seed: int, count: int) -> list[int]:
    """``count`` independent child seeds of ``seed``."""
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(int(seed)).spawn(count)]


def torch_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


@contextlib.contextmanager
def isolated_torch_rng(seed: int) -> Iterator[None]:
    """Seed torch's global generator inside a fork; the outer state is restored on exit."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
