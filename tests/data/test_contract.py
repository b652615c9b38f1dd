"""Generated from the data-source registry: every source says how to get its files, refuses a missing or absent
path by name, and — where its files are here — loads a well-formed data set."""
import pytest
import torch

from coredistill.data import SOURCES, load_dataset
from coredistill.errors import DataError, InvalidParameterError


@pytest.mark.parametrize("name", SOURCES.names())
def test_contract(name, tmp_path, request):
    source = SOURCES.get(name)
    assert source.name == name and source.description and source.how_to_get
    if source.takes_path:
        with pytest.raises(DataError, match="not found"):
            load_dataset(name, path=tmp_path / "absent")
    else:
        with pytest.raises(InvalidParameterError, match="path="):
            load_dataset(name, path=tmp_path)
    if source.needs_path:
        with pytest.raises(InvalidParameterError, match="path=None"):
            load_dataset(name)
    if not source.available() or source.needs_path:
        return  # files of the user's own (exercised with files the tests write, in test_sources.py)
    loaded = {"digits", "mnist", "fashion-mnist"}  # the session's fixtures (conftest.py): loaded once per run
    ds = request.getfixturevalue(name.replace("-", "_")) if name in loaded else load_dataset(name)
    assert ds.x_train.dtype == torch.uint8 and ds.x_train.ndim == 4 and ds.x_train.shape[1:] == ds.x_test.shape[1:]
    assert len(ds.class_names) == ds.num_classes
    assert set(ds.y_train.unique().tolist()) == set(range(ds.num_classes)) >= set(ds.y_test.unique().tolist())
