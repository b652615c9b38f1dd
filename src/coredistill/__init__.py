"""coredistill: dataset distillation with provable subset selection.

>>> import coredistill as cd
>>> ds = cd.load_dataset("digits")
>>> result = cd.distill(ds, ipc=1, method="dm", init="kmeans-sensitivity", preset="tiny", evaluate_with=(),
...                     progress=False)
>>> tuple(result.images.shape)
(10, 1, 8, 8)
"""
from __future__ import annotations

from ._version import __version__  # noqa: F401

from .artifacts import DistilledSet  # noqa: E402
from .data import load_dataset  # noqa: E402
from .evaluate import evaluate  # noqa: E402
from .methods import create_method, list_methods  # noqa: E402
from .models import create_model, list_models  # noqa: E402
from .pipeline import distill, evaluate_artifact  # noqa: E402
from .presets import get_preset  # noqa: E402
from .sampling import create_sampler, list_samplers  # noqa: E402
from .select import create_initializer, list_initializers  # noqa: E402

__all__ = ["DistilledSet", "create_initializer", "create_method", "create_model", "create_sampler", "distill",
           "evaluate", "evaluate_artifact", "get_preset", "list_initializers", "list_methods", "list_models",
           "list_samplers", "load_dataset"]
