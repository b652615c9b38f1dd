"""Training-space images computed on access, for data sets that do not fit in memory.

A memory-mapped data set's train split stays on disk; :class:`TrainingImages` gives the rows a method, a sampler
or a feature space asks for — normalized (and ZCA-whitened) on the fly — so feature extraction, selection and
real-batch sampling read only what they touch.
"""
from __future__ import annotations

import torch

from .transforms import ZCA, Normalizer


class TrainingImages:
    """Rows of ``source`` (uint8 0..255 or float 0..1, ``(N, C, H, W)``) in the training space, on access.

    >>> import torch
    >>> from coredistill.data.transforms import Normalizer
    >>> v = TrainingImages(torch.full((5, 1, 2, 2), 255, dtype=torch.uint8), Normalizer((0.5,), (0.5,)))
    >>> tuple(v.shape), v[torch.tensor([0, 3])].flatten().tolist()[:2], len(v[1:4])
    ((5, 1, 2, 2), [1.0, 1.0], 3)
    """

    def __init__(self, source: torch.Tensor, normalizer: Normalizer, zca: ZCA | None = None) -> None:
        self.source = source
        self.normalizer = normalizer
        self.zca = zca

    @property
    def shape(self) -> torch.Size:
        return self.source.shape

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index) -> torch.Tensor:
        rows = self.source[index]
        x = rows.float().div_(255.0) if rows.dtype == torch.uint8 else rows.float()
        x = self.normalizer(x)
        return self.zca(x) if self.zca is not None else x
