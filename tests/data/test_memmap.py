"""Memory-mapped data sets: the train split stays on disk, and results equal the in-memory ones; at a million
images, feature extraction and k-means sensitivity selection run with bounded memory."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from coredistill import distill, load_dataset
from coredistill.data import ImageDataset
from coredistill.data.synthetic import write_npy_dataset
from coredistill.data.views import TrainingImages
from coredistill.errors import DataError, InvalidParameterError


def _mapped_file(address: int) -> str:
    """The file mapped at ``address`` in this process ("" for anonymous memory such as the heap)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        start, end = (int(v, 16) for v in fields[0].split("-"))
        if start <= address < end:
            return fields[5] if len(fields) > 5 else ""
    return ""


def test_memory_mapped_run_equals_the_in_memory_run(tmp_path):
    folder = write_npy_dataset(tmp_path / "d", 3000)
    mm = load_dataset("npy", path=folder)
    assert mm.memory_mapped
    if Path("/proc/self/maps").exists():  # the train tensor's memory is the mapped file itself, not a heap copy
        assert _mapped_file(mm.x_train.data_ptr()).endswith("x_train.npy")
    ram = ImageDataset("d", mm.x_train.clone(), mm.y_train, mm.x_test, mm.y_test, mm.class_names, mean=mm.mean,
                       std=mm.std)  # the same data and normalization, held in memory
    assert not _mapped_file(ram.x_train.data_ptr()).endswith("x_train.npy")
    computed = ImageDataset("d", ram.x_train, ram.y_train, ram.x_test, ram.y_test, ram.class_names)
    assert (computed.mean, computed.std) == (mm.mean, mm.std)  # the same statistics from disk or memory
    kw = dict(ipc=2, method="dm", init="kmeans-sensitivity", sampler="relative-loss", preset="tiny",
              evaluate_with=(), progress=False)
    a, b = distill(mm, **kw), distill(ram, **kw)
    assert torch.equal(a.images, b.images)
    assert a.manifest["initializer"]["indices"] == b.manifest["initializer"]["indices"]


def test_view_rows_and_refusals(tmp_path):
    folder = write_npy_dataset(tmp_path / "d", 500)
    mm = load_dataset("npy", path=folder)
    view = TrainingImages(mm.x_train, mm.normalizer())
    expected = mm.normalizer()(mm.x_train[[3, 7]].float() / 255)
    assert torch.equal(view[torch.tensor([3, 7])], expected) and view.shape == (500, 1, 8, 8)
    with pytest.raises(InvalidParameterError, match="zca_eps=0.1: expected None for the memory-mapped"):
        distill(mm, ipc=1, zca_eps=0.1, preset="tiny", evaluate_with=(), progress=False)
    (folder / "y_test.npy").unlink()
    with pytest.raises(DataError, match="lacks y_test.npy"):
        load_dataset("npy", path=folder)
    np.save(folder / "y_test.npy", np.zeros(200, np.int64))
    np.save(folder / "x_train.npy", np.zeros((10, 1, 8, 8), np.float32))
    with pytest.raises(DataError, match="dtype float32: expected uint8"):
        load_dataset("npy", path=folder)


_CHILD = r"""
import json, sys, time
import numpy as np
from coredistill import distill, load_dataset
def status(key):  # MB; VmHWM is this process image's peak (ru_maxrss also keeps the forking parent's from before exec)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
ds = load_dataset("npy", path=sys.argv[1])
base = status("VmRSS")
t0 = time.perf_counter()
res = distill(ds, ipc=10, init="kmeans-sensitivity", init_options={"minibatch_iters": 20}, preset="tiny",
              evaluate_with=(), progress=False)
idx = np.asarray(res.manifest["initializer"]["indices"])
print(json.dumps({"base_mb": base, "peak_mb": status("VmHWM"),
                  "seconds": time.perf_counter() - t0, "n": len(ds.y_train),
                  "classes_ok": bool((ds.y_train.numpy()[idx] == np.repeat(np.arange(10), 10)).all())}))
"""


@pytest.mark.slow
def test_a_million_memory_mapped_images_select_with_bounded_memory(tmp_path):
    n = 1_000_000
    folder = write_npy_dataset(tmp_path / "big", n)
    env = {**os.environ, "COREDISTILL_DATA": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    features_mb = n * 64 * 4 / 2**20  # the pixel features, float32: the one n-sized array selection needs
    # in-memory preparation would add a float copy of the images, a normalized copy and a copy for the
    # statistics (3 x 244 MB here); streaming keeps the growth to about the features and their cache file
    assert r["n"] == n and r["classes_ok"]
    assert r["peak_mb"] - r["base_mb"] < 2.5 * features_mb, r
