import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from coredistill.data import list_datasets, load_dataset
from coredistill.errors import DataError, InvalidParameterError


def _check_common(ds, n_train, n_test, shape, classes):
    assert ds.x_train.shape == (n_train, *shape)
    assert ds.x_test.shape == (n_test, *shape)
    assert ds.x_train.dtype == torch.uint8
    assert ds.num_classes == classes
    assert set(ds.y_train.unique().tolist()) == set(range(classes))
    assert int(ds.x_train.max()) == 255 and int(ds.x_train.min()) == 0


def test_digits_is_real_sklearn_digits(digits):
    _check_common(digits, 1437, 360, (1, 8, 8), 10)
    assert digits.class_counts().sum() + digits.class_counts("test").sum() == 1797
    assert not digits.allow_flip


def test_digits_split_is_fixed_by_seed():
    a, b, c = load_dataset("digits"), load_dataset("digits"), load_dataset("digits", seed=1)
    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, c.x_train)


def test_mnist_is_the_real_mnist(mnist):
    _check_common(mnist, 60000, 10000, (1, 28, 28), 10)
    # the official per-class counts of MNIST's 60k train and 10k test sets
    assert mnist.class_counts().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.class_counts("test").tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.mean[0] == pytest.approx(0.1307, abs=1e-4) and mnist.std[0] == pytest.approx(0.3081, abs=1e-4)


def test_fashion_mnist_is_the_real_fashion_mnist(fashion_mnist):
    _check_common(fashion_mnist, 60000, 10000, (1, 28, 28), 10)
    assert fashion_mnist.class_counts().tolist() == [6000] * 10
    assert fashion_mnist.class_counts("test").tolist() == [1000] * 10
    assert fashion_mnist.class_names[9] == "Ankle boot"
    assert fashion_mnist.mean[0] == pytest.approx(0.2860, abs=1e-4)


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(InvalidParameterError, match="dataset='cifar11': expected one of: .*mnist.*cifar10"):
        load_dataset("cifar11")


def test_path_required_and_missing(tmp_path):
    with pytest.raises(InvalidParameterError, match="path=None"):
        load_dataset("npz")
    with pytest.raises(DataError, match="not found"):
        load_dataset("cifar10", path=tmp_path / "nope")
    with pytest.raises(InvalidParameterError, match="path="):
        load_dataset("digits", path=tmp_path)


def _write_cifar10(root, n_per_batch=20, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {b"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 b"labels": list(rng.integers(0, 10, n_per_batch))}
        with open(root / name, "wb") as f:
            pickle.dump(batch, f)
    return root


def test_cifar10_python_batches(tmp_path):
    root = _write_cifar10(tmp_path / "cifar-10-batches-py")
    ds = load_dataset("cifar10", path=root)
    assert ds.x_train.shape == (100, 3, 32, 32) and ds.x_test.shape == (20, 3, 32, 32)
    assert ds.class_names[0] == "airplane" and ds.allow_flip
    # channel-first layout: the first 1024 bytes are the red plane
    with open(root / "data_batch_1", "rb") as f:
        raw = pickle.load(f)
    assert torch.equal(ds.x_train[0, 0].flatten(), torch.from_numpy(raw[b"data"][0, :1024]))


def test_cifar100_python_batches(tmp_path):
    root = tmp_path / "cifar-100-python"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("train", 100), ("test", 10)):  # every class has a train image
        with open(root / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"fine_labels": list(range(n))}, f)
    with open(root / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(100)]}, f)
    ds = load_dataset("cifar100", path=root)
    assert ds.num_classes == 100 and ds.class_names[5] == "c5" and len(ds.y_train) == 100


def test_truncated_cifar_batch_is_a_data_error(tmp_path):
    root = _write_cifar10(tmp_path / "c")
    raw = (root / "data_batch_3").read_bytes()
    (root / "data_batch_3").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="data_batch_3"):
        load_dataset("cifar10", path=root)


def test_npz_channels_last_and_floats(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=rng.random((12, 10, 10, 3)).astype(np.float32), y_train=np.arange(12) % 3,
             x_test=rng.random((6, 10, 10, 3)).astype(np.float32), y_test=np.arange(6) % 3)
    ds = load_dataset("npz", path=path)
    assert ds.x_train.shape == (12, 3, 10, 10) and ds.x_train.dtype == torch.float32 and ds.num_classes == 3


def test_npz_bad_content(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((4, 8, 8), np.uint8), y_train=np.zeros(4))
    with pytest.raises(DataError, match="lacks x_test, y_test"):
        load_dataset("npz", path=path)
    np.savez(path, x_train=np.full((4, 8, 8), 3.0), y_train=np.zeros(4), x_test=np.zeros((2, 8, 8)), y_test=np.zeros(2))
    with pytest.raises(DataError, match=r"expected uint8 or finite floats in \[0, 1\]"):
        load_dataset("npz", path=path)
    np.savez(path, x_train=np.zeros((4, 8, 8), np.uint8), y_train=np.zeros(3), x_test=np.zeros((2, 8, 8), np.uint8),
             y_test=np.zeros(2))
    with pytest.raises(DataError, match="3 labels for 4 images"):
        load_dataset("npz", path=path)


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(10):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = load_dataset("folder", path=tmp_path)
    assert ds.class_names == ["cat", "dog"] and ds.channels == 3 and ds.image_size == (12, 12)
    assert len(ds.y_train) + len(ds.y_test) == 20 and ds.class_counts("test").tolist() == [2, 2]
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "cat" / "odd.png")
    with pytest.raises(DataError, match="several sizes"):
        load_dataset("folder", path=tmp_path)
    ds = load_dataset("folder", path=tmp_path, image_size=8)
    assert ds.image_size == (8, 8)


def test_ipc_checks(digits):
    assert digits.check_ipc(5) == 5
    smallest = int(digits.class_counts().min())
    with pytest.raises(InvalidParameterError, match=f"ipc={smallest + 1}: expected at most the smallest class size "
                                                    f"{smallest} \\(class 8\\)"):
        digits.check_ipc(smallest + 1)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InvalidParameterError, match="ipc="):
            digits.check_ipc(bad)


def test_every_source_is_listed():
    assert {"digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "idx", "npz", "folder"} <= set(list_datasets())


def test_corrupt_mnist_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "mnist.pkl.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(DataError, match="sha256 .*expected f11bb9e41d6c.*coredistill fetch mnist"):
        load_dataset("mnist")
