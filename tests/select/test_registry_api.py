"""One API test per initializer in the registry (timm-style): same contract for every entry."""
import numpy as np
import pytest

from coredistill.select import INITIALIZERS, create_initializer, list_initializers


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2, 3], [25, 40, 31, 60])
    return rng.normal(size=(len(labels), 6)) + labels[:, None], labels


@pytest.mark.parametrize("name", list_initializers())
@pytest.mark.parametrize("ipc", [1, 7])
def test_contract(name, ipc, data):
    x, y = data
    init = create_initializer(name)
    a = init.select(x, y, ipc, np.random.default_rng(5))
    assert a.indices.shape == a.weights.shape == (4 * ipc,)
    assert np.bincount(y[a.indices]).tolist() == [ipc] * 4
    assert len(set(a.indices.tolist())) == 4 * ipc
    assert (a.weights > 0).all() and np.isfinite(a.weights).all()
    assert a.scores is None or (a.scores.shape == (len(y),) and np.isfinite(a.scores).all())
    b = create_initializer(name).select(x, y, ipc, np.random.default_rng(5))
    assert np.array_equal(a.indices, b.indices)
    if INITIALIZERS.get(name).stochastic and ipc > 1:
        c = create_initializer(name).select(x, y, ipc, np.random.default_rng(6))
        assert not np.array_equal(a.indices, c.indices)


@pytest.mark.parametrize("name", list_initializers())
def test_ipc_too_large_and_length_mismatch(name, data):
    x, y = data
    with pytest.raises(ValueError, match=r"ipc=26: expected at most the smallest class size 25 \(class 0\)"):
        create_initializer(name).select(x, y, 26, np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels="):
        create_initializer(name).select(x, y[:-1], 1, np.random.default_rng(0))


@pytest.mark.parametrize("name", list_initializers())
def test_single_point_class(name):
    x = np.vstack([np.random.default_rng(0).normal(size=(10, 2)), [[3.0, 3.0]]])
    y = np.array([0] * 10 + [1])
    sel = create_initializer(name).select(x, y, 1, np.random.default_rng(0))
    assert 10 in sel.indices.tolist() and np.isfinite(sel.weights).all()


@pytest.mark.parametrize("name", list_initializers())
def test_options_are_plain_data_and_rebuild_the_initializer(name):
    import json

    options = create_initializer(name).options()
    assert json.loads(json.dumps(options)) == options
    assert create_initializer(name, **options).options() == options
