"""No file received from someone else runs code when coredistill reads it: a payload planted in each kind of file
(artifact, expert trajectory, feature cache, teacher cache, npz / npy data, CIFAR batch; checkpoints in
methods/test_loop.py) is refused or ignored, and the payload never runs; a refusal names what it found, not
torch's advice to load the file with weights_only=False."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

from coredistill.artifacts import DistilledSet
from coredistill.data import load_dataset
from coredistill.errors import ArtifactError, CheckpointError, DataError
from coredistill.features import cache_key, cached_features, create_features
from coredistill.methods.experts import ExpertBuffer, expert_file


class Payload:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def payload(tmp_path):
    marker = tmp_path / "payload-ran"
    yield Payload(marker)
    assert not marker.exists(), "the planted payload ran"


def test_artifact(payload, tmp_path, digits):
    from coredistill import distill

    art = distill(digits, ipc=1, preset="tiny", evaluate_with=(), progress=False).save(tmp_path / "art")
    torch.save({"images": payload}, art / "tensors.pt")
    with pytest.raises(ArtifactError):
        DistilledSet.load(art)


def test_expert_trajectory(payload, tmp_path):
    folder = tmp_path / "buf"
    folder.mkdir()
    torch.save(payload, expert_file(folder, 0))
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "config": {"epochs": 2},
                                                      "experts": [expert_file(folder, 0).name]}))
    with pytest.raises(CheckpointError, match=r"expert_0000.pt.*cannot be read \(it holds a Python object "
                                              r"\(\w+\.system\).*never unpickled") as caught:
        ExpertBuffer(folder).trajectory(0)
    assert "weights_only" not in str(caught.value)


def test_teacher_cache_entry(payload, tmp_path, digits):
    from coredistill.sampling import ScoringContext, Teacher

    x = digits.normalizer()(digits.train_float())
    scoring = ScoringContext(x, 10, torch.device("cpu"), "ConvNet", {"width": 8}, None, digits.y_train,
                             {"name": "planted-teacher"})
    Teacher(epochs=1, cache_dir=str(tmp_path)).fit(None, None, scoring, torch.Generator())
    (entry,) = tmp_path.glob("teacher-*.pt")
    torch.save({"features.0.weight": payload}, entry)
    predict = Teacher(epochs=1, cache_dir=str(tmp_path)).fit(None, None, scoring, torch.Generator())
    assert predict(x[:4]).shape == (4, 10)  # the entry was ignored, the teacher trained again and replaced it
    assert isinstance(torch.load(entry, weights_only=True)["features.0.weight"], torch.Tensor)


def test_feature_cache_entry(payload, tmp_path):
    space, images = create_features("pixels"), torch.rand(6, 1, 4, 4)
    identity = {"name": "planted"}
    path = tmp_path / f"pixels-{cache_key(identity, space, 0)}.npy"
    np.save(path, np.array([payload], dtype=object), allow_pickle=True)
    feats = cached_features(space, images, dataset_id=identity, cache_dir=tmp_path, progress=False)
    assert np.array_equal(feats, images.reshape(6, -1).numpy())  # the entry was ignored and recomputed


@pytest.mark.parametrize("layout", ["npz", "npy"])
def test_array_data_sets(payload, tmp_path, layout):
    planted = np.array([payload], dtype=object)
    if layout == "npz":
        np.savez(tmp_path / "d.npz", x_train=planted, y_train=[0], x_test=planted, y_test=[0])
        path = tmp_path / "d.npz"
    else:
        path = tmp_path / "d"
        path.mkdir()
        for key in ("x_train", "y_train", "x_test", "y_test"):
            np.save(path / f"{key}.npy", planted, allow_pickle=True)
    with pytest.raises(DataError, match="cannot be read"):
        load_dataset(layout, path=path)


def test_cifar_batch(payload, tmp_path):
    root = tmp_path / "cifar"
    root.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(root / name, "wb") as f:
            pickle.dump({b"data": payload, b"labels": [0]}, f)
    with pytest.raises(DataError, match="os.system|posix.system, which a CIFAR batch never holds"):
        load_dataset("cifar10", path=root)


@pytest.mark.parametrize("planted", [np.full((6, 16), np.nan, np.float32), np.zeros((6, 3), np.float64),
                                     np.zeros((5, 16), np.float32)], ids=["nan", "float64", "rows"])
def test_a_bad_feature_cache_entry_is_recomputed(tmp_path, planted):
    space, images = create_features("pixels"), torch.rand(6, 1, 4, 4)
    identity = {"name": "planted"}
    np.save(tmp_path / f"pixels-{cache_key(identity, space, 0)}.npy", planted)
    feats = cached_features(space, images, dataset_id=identity, cache_dir=tmp_path, progress=False)
    assert np.array_equal(feats, images.reshape(6, -1).numpy())
