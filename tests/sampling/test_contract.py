"""Generated from the sampler registry: every batch sampler obeys the contract the loop relies on."""
import json

import numpy as np
import pytest
import torch

from coredistill.sampling import ScoringContext, create_sampler, list_samplers

SIZES = [7, 30, 12]  # class sizes: one smaller than the batch asked for


@pytest.fixture(scope="module")
def real():
    labels = np.repeat(np.arange(len(SIZES)), SIZES)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(len(labels), 1, 8, 8, generator=g) + torch.as_tensor(labels).view(-1, 1, 1, 1).float()
    return images, labels


def _scoring(real):
    images, labels = real
    return ScoringContext(images, len(SIZES), model="ConvNet", model_options={"width": 8},
                          real_labels=torch.as_tensor(labels))


def _ready(name, real, seed=0):
    images, labels = real
    s = create_sampler(name)
    s.check()
    s.setup(labels, len(SIZES), seed=seed)
    syn_idx = [int(np.flatnonzero(labels == c)[0]) for c in range(len(SIZES))]
    scoring = _scoring(real)
    s.prepare(scoring)
    s.update(iteration=0, total=4, images=images[syn_idx], labels=torch.as_tensor(labels[syn_idx]), scoring=scoring)
    return s


@pytest.mark.parametrize("name", list_samplers())
def test_options_are_plain_data_and_rebuild_the_sampler(name):
    options = create_sampler(name).options()
    assert json.loads(json.dumps(options)) == options
    assert create_sampler(name, **options).options() == options


@pytest.mark.parametrize("name", list_samplers())
@pytest.mark.parametrize("batch", [1, 10])
def test_batches_are_distinct_members_of_the_class(name, batch, real):
    _, labels = real
    s = _ready(name, real)
    rng = np.random.default_rng(0)
    for c, size in enumerate(SIZES):
        idx, w = s.sample(c, batch, rng)
        assert len(idx) == min(batch, size) and len(set(np.asarray(idx).tolist())) == len(idx)
        assert (labels[idx] == c).all()
        assert w is None or (np.shape(w) == (len(idx),) and np.isfinite(w).all() and (np.asarray(w) > 0).all())


@pytest.mark.parametrize("name", list_samplers())
def test_draws_depend_only_on_the_seeds_and_state_resumes(name, real):
    a, b = _ready(name, real), _ready(name, real)
    draws = [a.sample(1, 5, np.random.default_rng(3))[0] for _ in range(2)]
    assert all(np.array_equal(d, b.sample(1, 5, np.random.default_rng(3))[0]) for d in draws)
    fresh = create_sampler(name)
    fresh.setup(real[1], len(SIZES), seed=0)
    fresh.prepare(_scoring(real))  # as the loop does on a resume (before the first batch, without update)
    fresh.load_state_dict(a.state_dict())  # a resumed run: same state, same rng -> same batches
    assert np.array_equal(fresh.sample(2, 6, np.random.default_rng(9))[0], a.sample(2, 6, np.random.default_rng(9))[0])
    json.dumps(a.report())  # diagnostics go into the manifest
