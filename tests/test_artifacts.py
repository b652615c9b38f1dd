import json

import pytest
import torch

from coredistill.artifacts import FORMAT_VERSION, DistilledSet
from coredistill.data import ZCA
from coredistill.errors import ArtifactError
from coredistill.pipeline import distill


@pytest.fixture(scope="module")
def small_set(digits):
    return distill(digits, ipc=2, preset="tiny", evaluate_with=(), progress=False, seed=4)


def test_round_trip_with_manifest_and_preview(small_set, tmp_path):
    path = small_set.save(tmp_path / "run")
    back = DistilledSet.load(path)
    assert torch.equal(back.images, small_set.images) and torch.equal(back.labels, small_set.labels)
    m = back.manifest
    assert m["format_version"] == FORMAT_VERSION and m["dataset"]["name"] == "digits" and m["ipc"] == 2
    assert m["initializer"]["name"] == "random" and len(m["initializer"]["indices"]) == 20
    assert m["method"]["name"] == "none" and m["preset"]["name"] == "tiny" and "select" in m["seeds"]
    assert (path / "preview.png").is_file()
    # the chosen real indices are the real images, as trained
    idx = torch.tensor(m["initializer"]["indices"])
    from coredistill.data import load_dataset
    from coredistill.pipeline import prepare_real

    train, _ = prepare_real(load_dataset("digits"), None)
    assert torch.equal(back.images, train[idx])


def test_soft_labels_lr_and_zca_round_trip(tmp_path):
    x = torch.randn(6, 1, 4, 4)
    zca = ZCA(0.1).fit(torch.randn(50, 1, 4, 4))
    s = DistilledSet(x, torch.arange(6) % 3, {"normalization": {"mean": [0.5], "std": [0.2]}},
                     soft_labels=torch.rand(6, 3), learned_lr=0.02, zca=zca)
    back = DistilledSet.load(s.save(tmp_path / "a"))
    assert torch.equal(back.soft_labels, s.soft_labels) and back.learned_lr == 0.02
    assert torch.allclose(back.images_unit(), s.images_unit())


def test_refuses_existing_output_unless_overwrite(small_set, tmp_path):
    path = small_set.save(tmp_path / "run")
    with pytest.raises(ArtifactError, match="out=.*run.*does not exist yet.*--overwrite"):
        small_set.save(path)
    small_set.save(path, overwrite=True)
    assert DistilledSet.load(path).images.shape == small_set.images.shape


def test_crash_while_saving_leaves_nothing_that_loads(small_set, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(DistilledSet, "write_preview", boom)
    with pytest.raises(OSError, match="disk full"):
        small_set.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp directory
    monkeypatch.undo()
    path = small_set.save(tmp_path / "run")
    monkeypatch.setattr(DistilledSet, "write_preview", boom)
    with pytest.raises(OSError):
        small_set.save(path, overwrite=True)
    assert DistilledSet.load(path).manifest["ipc"] == 2  # the old artifact survives a failed overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_nan_images_rejected_on_load(small_set, tmp_path):
    path = small_set.save(tmp_path / "run")
    t = torch.load(path / "tensors.pt", weights_only=True)
    t["images"][0, 0, 0, 0] = float("nan")
    torch.save(t, path / "tensors.pt")
    with pytest.raises(ArtifactError, match="NaN/Inf"):
        DistilledSet.load(path)
    with pytest.raises(ArtifactError, match="NaN/Inf"):
        DistilledSet(t["images"], t["labels"])


def test_unknown_format_version_and_missing_files(small_set, tmp_path):
    path = small_set.save(tmp_path / "run")
    m = json.loads((path / "manifest.json").read_text())
    m["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="format_version=99 .*expected 1"):
        DistilledSet.load(path)
    with pytest.raises(ArtifactError, match="expected a directory holding manifest.json"):
        DistilledSet.load(tmp_path / "elsewhere")


def test_shape_mismatch_with_manifest(small_set, tmp_path):
    path = small_set.save(tmp_path / "run")
    m = json.loads((path / "manifest.json").read_text())
    m["num_images"] = 3
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="do not match the manifest"):
        DistilledSet.load(path)


def test_export_to_dc_layout(small_set, tmp_path):
    [out] = small_set.export(tmp_path / "syn.pt")
    data = torch.load(out, weights_only=True)
    images, labels = data["data"][0]
    assert torch.equal(images, small_set.images) and torch.equal(labels, small_set.labels)
    with pytest.raises(ArtifactError, match="does not exist yet"):
        small_set.export(out)


def test_preview_denormalizes(small_set, tmp_path):
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(small_set.write_preview(tmp_path / "p.png")))
    assert img.shape[2] == 3 and img.dtype == np.uint8
    # 10 class rows of 32 px cells (8 px images upscaled x4) with 2 px gaps, right of a margin of class names
    margin = img.shape[1] - (2 * 34 + 2)
    assert img.shape[0] == 10 * 34 + 2 and margin > 0
    assert 0 < img.mean() < 255
    # the images are the de-normalized set, unchanged by the labels beside them
    from coredistill.imagegrid import grid_png

    labels = small_set.labels.numpy()
    bare = np.asarray(Image.open(grid_png(small_set.images_unit(), [np.flatnonzero(labels == k) for k in range(10)],
                                          tmp_path / "bare.png")))
    assert np.array_equal(img[:, margin:], bare)
    for r in range(10):  # every row has its class name written in the margin
        assert (img[2 + r * 34:2 + r * 34 + 32, :margin] < 128).any()


def test_preview_rows_are_named_by_the_data_sets_classes(small_set, tmp_path):
    import numpy as np
    from PIL import Image

    named = DistilledSet(small_set.images, small_set.labels, {**small_set.manifest, "dataset": {
        **small_set.manifest["dataset"], "class_names": [f"class number {k}" for k in range(10)]}})
    short = np.asarray(Image.open(small_set.write_preview(tmp_path / "a.png")))
    long = np.asarray(Image.open(named.write_preview(tmp_path / "b.png")))
    assert long.shape[1] > short.shape[1]  # a wider margin for longer names
