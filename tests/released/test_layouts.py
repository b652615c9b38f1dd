"""Released sets in each of the field's layouts, written by the test, read back into DistilledSets: the same
tensors, the stated space recorded, the learned lr kept, labels interpreted as documented, bad files refused with
a named error; and the other direction: a set of ours exported in every layout reads back unchanged (what a
layout cannot hold refused by name) and scores exactly as the original."""
import os
import pickle

import numpy as np
import pytest
import torch

from coredistill import distill
from coredistill.errors import ArtifactError, InvalidParameterError
from coredistill.pipeline import evaluate_artifact
from coredistill.released import detect_layout, list_layouts, load_released, writable_layouts


def _set(digits, per_class=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(10 * per_class, 1, 8, 8, generator=g) * 0.9
    return x, torch.arange(10 * per_class) % 10


def test_every_layout_is_listed():
    assert {"dc", "mtt", "npz"} <= set(list_layouts())


def test_dc_layout_reads_the_chosen_experiment(digits, tmp_path):
    (x0, y0), (x1, y1) = _set(digits, seed=0), _set(digits, seed=1)
    f = tmp_path / "res_DSA_digits.pt"
    torch.save({"data": [[x0, y0], [x1, y1]], "accs_all_exps": {"ConvNet": [0.5, 0.6]}}, f)
    s = load_released(f, digits)
    assert torch.equal(s.images, x0) and torch.equal(s.labels, y0)
    s1 = load_released(f, digits, experiment=1)
    assert torch.equal(s1.images, x1)
    m = s.manifest
    assert m["source"]["layout"] == "dc" and m["ipc"] == 2 and m["source"]["labels"] == "hard"
    assert m["normalization"]["mean"] == list(digits.mean) and m["normalization"]["zca_eps"] is None
    assert len(m["source"]["files"][0]["sha256"]) == 64
    with pytest.raises(InvalidParameterError, match="experiment=2: expected an index into the file's 2"):
        load_released(f, digits, experiment=2)


def test_mtt_folder_with_learned_lr_and_soft_labels(digits, tmp_path):
    x, y = _set(digits)
    soft = torch.softmax(torch.randn(len(y), 10), 1)
    torch.save(x, tmp_path / "images_best.pt")
    torch.save(soft, tmp_path / "labels_best.pt")
    torch.save(0.0173, tmp_path / "lr_best.pt")
    torch.save(x + 1, tmp_path / "images_500.pt")
    torch.save(y, tmp_path / "labels_500.pt")
    s = load_released(tmp_path, digits)
    assert torch.equal(s.images, x) and s.learned_lr == pytest.approx(0.0173)
    assert torch.allclose(s.soft_labels, soft) and torch.equal(s.labels, soft.argmax(1))
    later = load_released(tmp_path / "images_500.pt", digits)  # the file named directly: its iteration
    assert torch.equal(later.images, x + 1) and later.learned_lr is None and later.soft_labels is None
    with pytest.raises(InvalidParameterError, match=r"iteration=7: expected one saved in .*500, best"):
        load_released(tmp_path, digits, iteration=7)


def test_datm_label_logits_become_their_softmax_and_other_targets_their_argmax(digits, tmp_path):
    # DATM trains its eval nets on softmax(learned logits) (soft cross-entropy): that is the set's label
    x, y = _set(digits)
    logits = 3 * torch.randn(len(y), 10, generator=torch.Generator().manual_seed(0))
    torch.save(x, tmp_path / "images_best.pt")
    torch.save(logits, tmp_path / "labels_best.pt")
    s = load_released(tmp_path, digits)
    assert torch.allclose(s.soft_labels, torch.softmax(logits, 1)) and torch.allclose(s.soft_labels.sum(1),
                                                                                        torch.ones(len(y)))
    assert torch.equal(s.labels, logits.argmax(1)) and "softmax" in s.manifest["source"]["labels"]
    hard = load_released(tmp_path, digits, labels="hard")
    assert hard.soft_labels is None and torch.equal(hard.labels, logits.argmax(1))
    # an .npz's (N, K) regression targets are not logits unless the caller says so
    f = tmp_path / "rfad.npz"
    np.savez(f, images=x.numpy(), labels=logits.numpy())
    assert load_released(f, digits).soft_labels is None
    logits_set = load_released(f, digits, labels="logits")
    assert torch.allclose(logits_set.soft_labels, torch.softmax(logits, 1)) and "log" not in logits_set.manifest


def test_npz_channels_last_and_regression_targets(digits, tmp_path):
    x, y = _set(digits)
    targets = torch.nn.functional.one_hot(y, 10).float() - 0.1  # RFAD-style regression targets, not distributions
    f = tmp_path / "best.npz"
    np.savez(f, images=x.permute(0, 2, 3, 1).numpy(), labels=targets.numpy(), jit=5e-3)
    s = load_released(f, digits)
    assert torch.equal(s.images, x) and torch.equal(s.labels, y) and s.soft_labels is None
    assert s.manifest["source"]["labels"].startswith("argmax")
    # the targets themselves stay for RFAD's own evaluation, which trains on them; not when hard labels are asked
    assert torch.allclose(torch.tensor(s.manifest["log"]["learned_labels"]), targets)
    assert "log" not in load_released(f, digits, labels="hard").manifest
    with pytest.raises(InvalidParameterError, match="labels='soft'"):
        load_released(f, digits, labels="soft")
    with pytest.raises(InvalidParameterError, match="images_key='x': expected an array in .*images, jit, labels"):
        load_released(f, digits, images_key="x")


def test_auto_layout_is_refused_when_unclear(digits, tmp_path):
    f = tmp_path / "set.bin"
    f.write_bytes(b"0")
    with pytest.raises(InvalidParameterError, match="layout='auto'.*matches none"):
        load_released(f, digits)
    (tmp_path / "run").mkdir()
    torch.save(torch.zeros(1), tmp_path / "run" / "images_best.pt")
    (tmp_path / "best.npz").write_bytes(b"0")
    (tmp_path / "res.pt").write_bytes(b"0")
    assert [detect_layout(tmp_path / p).name for p in ("run", "run/images_best.pt", "best.npz", "res.pt")] == \
        ["mtt", "mtt", "npz", "dc"]


@pytest.mark.parametrize("images, labels, message", [
    (torch.randn(20, 1, 8, 9), torch.arange(20) % 10, r"images of shape \(20, 1, 8, 9\).*expected \(N, 1, 8, 8\)"),
    (torch.randn(20, 1, 8, 8), torch.arange(19) % 10, r"labels=\(19,\).*expected \(20,\) class indices"),
    (torch.randn(20, 1, 8, 8), torch.arange(20), r"labels in \[0, 19\].*expected 0..9"),
    (torch.full((20, 1, 8, 8), float("nan")), torch.arange(20) % 10, "expected finite values"),
    (torch.zeros(20, 1, 8, 8, dtype=torch.uint8), torch.arange(20) % 10, "expected a float array"),
])
def test_bad_tensors_get_a_named_error(digits, tmp_path, images, labels, message):
    f = tmp_path / "res.pt"
    torch.save({"data": [[images, labels]]}, f)
    with pytest.raises(ArtifactError, match=message):
        load_released(f, digits)


def test_bad_statements_get_a_named_error(digits, tmp_path):
    f = tmp_path / "res.pt"
    torch.save({"data": [list(_set(digits))]}, f)
    with pytest.raises(InvalidParameterError, match="normalization='imagenet'"):
        load_released(f, digits, normalization="imagenet")
    with pytest.raises(InvalidParameterError, match="normalization=.*one value per channel"):
        load_released(f, digits, normalization={"mean": [0.5, 0.5], "std": [1, 1]})
    with pytest.raises(InvalidParameterError, match="zca_eps=0: expected a positive ZCA regularization eps"):
        load_released(f, digits, zca_eps=0)
    with pytest.raises(InvalidParameterError, match="layout='kip'"):
        load_released(f, digits, layout="kip")
    with pytest.raises(InvalidParameterError, match="layout_options"):
        load_released(f, digits, iteration=3)
    torch.save({"images": torch.zeros(2)}, f)
    with pytest.raises(ArtifactError, match=r"holds \['images'\]: expected the DC layout"):
        load_released(f, digits)


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("layout", ["dc", "mtt", "npz"])
def test_a_planted_payload_never_runs(digits, tmp_path, layout):
    marker = tmp_path / "ran"
    if layout == "dc":
        path = tmp_path / "res.pt"
        torch.save({"data": [[Payload(marker), torch.arange(20) % 10]]}, path)
    elif layout == "mtt":
        path = tmp_path
        torch.save(Payload(marker), tmp_path / "images_best.pt")
        torch.save(torch.arange(20) % 10, tmp_path / "labels_best.pt")
    else:
        path = tmp_path / "best.npz"
        np.savez(path, images=np.array([Payload(marker)], dtype=object), labels=np.arange(20) % 10)
    with pytest.raises(ArtifactError, match="cannot be read"):
        load_released(path, digits)
    assert not marker.exists()


def test_a_space_far_from_the_real_data_is_warned(digits, tmp_path):
    x, y = _set(digits)
    f = tmp_path / "res.pt"
    torch.save({"data": [[x * 255 + 100, y]]}, f)  # pixels in 0..255, not normalized
    with pytest.warns(UserWarning, match="far from the real train images"):
        load_released(f, digits)


def test_zca_space_is_fitted_on_train_and_recorded(digits, tmp_path):
    from coredistill.pipeline import fit_zca

    x, y = _set(digits)
    f = tmp_path / "res.pt"
    torch.save({"data": [[x, y]]}, f)
    s = load_released(f, digits, zca_eps=0.1)
    ref = fit_zca(digits, 0.1)
    assert torch.allclose(s.zca.transform_matrix, ref.transform_matrix)
    assert s.manifest["normalization"]["zca_eps"] == 0.1
    r = load_released(f, digits, zca_eps=0.1, zca_relative=True)
    assert r.zca.relative and not torch.allclose(r.zca.transform_matrix, ref.transform_matrix)


def test_our_set_exported_and_reimported_scores_the_same(digits, tmp_path):
    art = distill(digits, ipc=2, method="dm", preset="tiny", evaluate_with=(), progress=False)
    [path] = art.export(tmp_path / "res_DM.pt")
    again = load_released(path, digits, eval_dsa=art.manifest["method"]["eval_dsa"])
    a = evaluate_artifact(art, digits, preset="tiny", seed=3, progress=False)
    b = evaluate_artifact(again, digits, preset="tiny", seed=3, progress=False)
    assert a["ConvNet"].accuracies == b["ConvNet"].accuracies


def test_the_imported_set_saves_and_loads_as_an_artifact(digits, tmp_path):
    from coredistill.artifacts import DistilledSet

    x, y = _set(digits)
    torch.save(x, tmp_path / "images_best.pt")
    torch.save(y, tmp_path / "labels_best.pt")
    torch.save(torch.tensor(0.02), tmp_path / "lr_best.pt")
    saved = load_released(tmp_path, digits).save(tmp_path / "art")
    back = DistilledSet.load(saved)
    assert torch.equal(back.images, x) and back.learned_lr == pytest.approx(0.02)
    assert back.manifest["method"]["name"] == "released-mtt"


def _ours(digits, soft=False, lr=None, targets=None):
    from coredistill.artifacts import DistilledSet

    x, y = _set(digits)
    manifest = {"log": {"learned_labels": targets.tolist()}} if targets is not None else {}
    probs = torch.softmax(torch.randn(len(y), 10, generator=torch.Generator().manual_seed(5)) * 3, 1)
    return DistilledSet(x, y, manifest, probs if soft else None, lr)


@pytest.mark.parametrize("layout", writable_layouts())
def test_every_layout_writes_what_it_reads(digits, tmp_path, layout):
    art = _ours(digits)
    files = art.export(tmp_path / f"out.{layout}", layout)
    assert files and all(f.is_file() for f in files)
    back = load_released(tmp_path / f"out.{layout}", digits, layout=layout)
    assert torch.equal(back.images, art.images) and torch.equal(back.labels, art.labels)
    assert back.soft_labels is None and back.learned_lr is None
    with pytest.raises(ArtifactError, match="expected a path that does not exist yet"):
        art.export(tmp_path / f"out.{layout}", layout)
    art.export(tmp_path / f"out.{layout}", layout, overwrite=True)  # an export of the same layout is replaced


def test_soft_labels_and_learned_lr_travel_where_the_layout_holds_them(digits, tmp_path):
    art = _ours(digits, soft=True, lr=0.0123)
    art.export(tmp_path / "mtt", "mtt")  # DATM's layout: label logits whose softmax is ours, and the lr
    back = load_released(tmp_path / "mtt", digits)
    assert torch.allclose(back.soft_labels, art.soft_labels, atol=1e-6) and back.learned_lr == pytest.approx(0.0123)
    assert torch.equal(back.labels, art.soft_labels.argmax(1))
    with pytest.raises(InvalidParameterError, match="layout='npz': expected a layout that holds this set's "
                                                   "learned_lr .mtt., or allow_loss=True"):
        art.export(tmp_path / "set.npz", "npz")
    with pytest.raises(InvalidParameterError, match="layout='dc': expected a layout that holds this set's "
                                                   "soft_labels and learned_lr .mtt."):
        art.export(tmp_path / "set.pt", "dc")
    assert not (tmp_path / "set.pt").exists() and not (tmp_path / "set.npz").exists()
    art.export(tmp_path / "set.npz", "npz", allow_loss=True)  # the distributions, without the lr
    assert torch.allclose(load_released(tmp_path / "set.npz", digits).soft_labels, art.soft_labels)
    art.export(tmp_path / "set.pt", "dc", allow_loss=True)
    hard = load_released(tmp_path / "set.pt", digits)
    assert hard.soft_labels is None and torch.equal(hard.labels, art.labels)


def test_rfad_targets_travel_in_the_npz_layout(digits, tmp_path):
    x, y = _set(digits)
    noise = torch.randn(len(y), 10, generator=torch.Generator().manual_seed(7))
    targets = torch.nn.functional.one_hot(y, 10).float() - 0.1 + 0.05 * noise
    art = _ours(digits, targets=targets)
    art.export(tmp_path / "rfad.npz", "npz")
    back = load_released(tmp_path / "rfad.npz", digits)
    assert torch.equal(back.labels, y) and back.soft_labels is None
    assert torch.allclose(torch.tensor(back.manifest["log"]["learned_labels"]), targets)
    with pytest.raises(InvalidParameterError, match="holds this set's targets .npz."):
        art.export(tmp_path / "rfad", "mtt")


def test_an_export_never_replaces_a_folder_of_other_files(digits, tmp_path):
    art = _ours(digits)
    (tmp_path / "logged").mkdir()
    (tmp_path / "logged" / "notes.txt").write_text("mine")
    with pytest.raises(ArtifactError, match="holds notes.txt: expected a folder of mtt files only"):
        art.export(tmp_path / "logged", "mtt", overwrite=True)
    assert (tmp_path / "logged" / "notes.txt").read_text() == "mine"
    with pytest.raises(ArtifactError, match="expected a folder for the mtt layout .it is a file."):
        art.export(tmp_path / "logged" / "notes.txt", "mtt", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logged"]  # no temporary folder left behind


def test_a_layout_that_only_reads_is_refused_for_export(digits, tmp_path, monkeypatch):
    from coredistill.released import LAYOUTS, Layout

    class ReadOnly(Layout):
        name = "read-only"

    monkeypatch.setitem(LAYOUTS._entries, "read-only", ReadOnly())
    assert "read-only" not in writable_layouts() and {"dc", "mtt", "npz"} <= set(writable_layouts())
    with pytest.raises(InvalidParameterError, match="layout='read-only': expected a layout that can be written: dc"):
        _ours(digits).export(tmp_path / "x", "read-only")
    assert not (tmp_path / "x").exists()
