"""Generated from the feature-space registry: every space maps images to finite float32 rows, deterministically
in its seed, and its options rebuild it."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from coredistill.features import FEATURES, create_features, list_features
from coredistill.registry import accepts

# spaces that cannot be built from defaults alone (the encoder wraps a user's module)
EXAMPLE_OPTIONS = {"encoder": {"module": nn.Flatten()}, "teacher": {"epochs": 1, "width": 8}}


@pytest.mark.parametrize("name", list_features())
def test_contract(name):
    images = torch.randn(20, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    space = create_features(name, **EXAMPLE_OPTIONS.get(name, {}))
    extra = {"labels": np.arange(20) % 2} if accepts(space.compute, "labels") else {}  # a space trained on the data
    a = space.compute(images, seed=1, progress=False, **extra)
    assert a.dtype == np.float32 and a.ndim == 2 and a.shape[0] == 20 and a.shape[1] > 0 and np.isfinite(a).all()
    assert np.array_equal(a, space.compute(images, seed=1, progress=False, **extra))
    assert space.name == name and isinstance(FEATURES.get(name), type)
    options = space.options()
    assert json.loads(json.dumps(options)) == options  # recorded in manifests and cache keys
    if name not in EXAMPLE_OPTIONS:  # the options rebuild an equal space
        assert create_features(name, **options).options() == options
