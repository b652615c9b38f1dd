import gzip
import struct

import numpy as np
import pytest

from coredistill.data import load_dataset
from coredistill.data.idx import read_idx
from coredistill.errors import DataError


def _idx(array: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def _write_folder(root, n_train=30, n_test=10, gz=True):
    rng = np.random.default_rng(0)
    root.mkdir(exist_ok=True)
    files = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 6, 6), dtype=np.uint8),
             "train-labels-idx1-ubyte": (np.arange(n_train) % 3).astype(np.uint8),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 6, 6), dtype=np.uint8),
             "t10k-labels-idx1-ubyte": (np.arange(n_test) % 3).astype(np.uint8)}
    for name, arr in files.items():
        data = _idx(arr)
        (root / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)
    return files


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_round_trip(tmp_path, gz):
    files = _write_folder(tmp_path / "f", gz=gz)
    ds = load_dataset("idx", path=tmp_path / "f")
    assert ds.x_train.shape == (30, 1, 6, 6) and ds.num_classes == 3
    assert np.array_equal(ds.x_train[:, 0].numpy(), files["train-images-idx3-ubyte"])


def test_wrong_magic_number(tmp_path):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DataError, match="magic number 0x00000801: expected 0x00000803"):
        read_idx(p, 3)


def test_truncated_data_and_gzip(tmp_path):
    good = _idx(np.zeros((4, 5, 5), np.uint8))
    p = tmp_path / "t-idx3-ubyte"
    p.write_bytes(good[:-7])
    with pytest.raises(DataError, match="holds 93 data bytes: expected 100"):
        read_idx(p, 3)
    g = tmp_path / "t-idx3-ubyte.gz"
    g.write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(DataError, match="not a readable gzip file"):
        read_idx(g, 3)


def test_label_image_count_mismatch(tmp_path):
    root = tmp_path / "f"
    _write_folder(root)
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.zeros(9, np.uint8))))
    with pytest.raises(DataError, match="t10k has 10 images but 9 labels"):
        load_dataset("idx", path=root)


def test_missing_file_named(tmp_path):
    root = tmp_path / "f"
    _write_folder(root)
    (root / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_dataset("idx", path=root)
