"""Bad input, tried as a new user would: every case ends in one line that names the parameter, the value and what
was expected — exit code 2, no traceback, nothing written — from the command line and from the Python API."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from coredistill import distill
from coredistill.cli import main
from coredistill.errors import CoredistillError

DISTILL = ["distill", "--dataset", "digits", "--ipc", "1", "--preset", "tiny", "--no-eval", "--quiet"]


def _folder(root, classes, make=lambda c, i: np.full((8, 8), 40 * i, np.uint8), per_class=3):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(make(c, i)).save(root / c / f"{i}.png")
    return root


def _npz(path, **override):
    arrays = {"x_train": np.zeros((4, 8, 8), np.uint8), "y_train": np.array([0, 1, 0, 1]),
              "x_test": np.zeros((2, 8, 8), np.uint8), "y_test": np.array([0, 1]), **override}
    np.savez(path, **arrays)
    return path


def _artifact(tmp_path, edit_manifest=None, edit_tensors=None):
    art = tmp_path / "art"
    assert main([*DISTILL, "--out", str(art)]) == 0
    if edit_manifest is not None:
        m = json.loads((art / "manifest.json").read_text())
        (art / "manifest.json").write_text(json.dumps(edit_manifest(m)))
    if edit_tensors is not None:
        t = torch.load(art / "tensors.pt", weights_only=True)
        torch.save(edit_tensors(t), art / "tensors.pt")
    return art


def _buffer(tmp_path, manifest=None, drop_file=False, truncate=False):
    folder = tmp_path / "buf"
    assert main(["experts", "--dataset", "digits", "--num-experts", "1", "--preset", "tiny", "--quiet", "--out",
                 str(folder)]) == 0
    if manifest is not None:
        (folder / "manifest.json").write_text(manifest)
    expert = folder / "expert_0000.pt"
    if drop_file:
        expert.unlink()
    if truncate:
        expert.write_bytes(expert.read_bytes()[:100])
    return folder


MTT = ["--method", "mtt", "--experts"]
CASES = {  # name: (argv built in tmp_path, message expected in the one error line)
    "negative seed": (lambda t: [*DISTILL, "--seed", "-1", "--out", str(t / "o")], "seed=-1: expected an integer >= 0"),
    "zero curve nets": (lambda t: [*DISTILL, "--eval-every", "1", "--curve-nets", "0", "--out", str(t / "o")],
                        "curve_nets=0: expected"),
    "unknown data option": (lambda t: [*DISTILL, "--data-opt", "colour=red", "--out", str(t / "o")],
                            "data option='colour': expected an option of digits: test_fraction, seed"),
    "zero-byte image sorting first": (
        lambda t: ["distill", "--dataset", "folder", "--path", str(_zero_byte(t)), "--ipc", "1", "--preset", "tiny",
                   "--no-eval", "--quiet", "--out", str(t / "o")], "cannot be read"),
    "a class with one image": (
        lambda t: ["distill", "--dataset", "folder", "--path", str(_folder(t / "f", ["a", "b"], per_class=1)),
                   "--ipc", "1", "--preset", "tiny", "--out", str(t / "o")], "has 1 image(s): expected at least 2"),
    "one class": (lambda t: ["distill", "--dataset", "folder", "--path", str(_folder(t / "f", ["only"])), "--ipc", "1",
                             "--preset", "tiny", "--out", str(t / "o")], "expected at least 2 classes"),
    "hidden folder is not a class": (
        lambda t: ["distill", "--dataset", "folder", "--path", str(_folder(t / "f", [".ipynb_checkpoints", "a"])),
                   "--ipc", "1", "--preset", "tiny", "--out", str(t / "o")], "expected at least 2 classes"),
    "grayscale and colour mixed": (
        lambda t: ["distill", "--dataset", "folder", "--path", str(_mixed(t)), "--ipc", "1", "--preset", "tiny",
                   "--out", str(t / "o")], "holds grayscale and colour images"),
    "folder --path is a file": (
        lambda t: ["distill", "--dataset", "folder", "--path", str(_file(t)), "--ipc", "1", "--out", str(t / "o")],
        "expected a folder with one sub-folder per class (it is a file)"),
    "idx --path is a file": (
        lambda t: ["distill", "--dataset", "idx", "--path", str(_file(t)), "--ipc", "1", "--out", str(t / "o")],
        "expected a folder holding MNIST-style idx files; it is a file"),
    "mnist --path is a folder without the file": (
        lambda t: ["distill", "--dataset", "mnist", "--path", str(t), "--ipc", "1", "--out", str(t / "o")],
        "expected the mnist.pkl.gz file"),
    "npz with an object array": (
        lambda t: ["distill", "--dataset", "npz", "--path", str(_object_npz(t)), "--ipc", "1", "--out", str(t / "o")],
        "cannot be read"),
    "npz with an empty test split": (
        lambda t: ["distill", "--dataset", "npz", "--path",
                   str(_npz(t / "d.npz", x_test=np.zeros((0, 8, 8), np.uint8), y_test=np.zeros(0, int))),
                   "--ipc", "1", "--out", str(t / "o")], "the test split is empty"),
    "npz with fractional labels": (
        lambda t: ["distill", "--dataset", "npz", "--path", str(_npz(t / "d.npz", y_train=np.array([0, 1.5, 0, 1]))),
                   "--ipc", "1", "--out", str(t / "o")], "non-integer labels"),
    "npz labels beyond the classes": (
        lambda t: ["distill", "--dataset", "npz", "--path", str(_npz(t / "d.npz", y_train=np.array([0, 2, 0, 2]))),
                   "--ipc", "1", "--out", str(t / "o")], "class 1 ('1') has no train image"),
    "manifest that is a list": (lambda t: ["show", str(_artifact(t, edit_manifest=lambda m: [m]))],
                                "holds a list: expected a mapping"),
    "manifest without its data set": (
        lambda t: ["evaluate", str(_artifact(t, edit_manifest=lambda m: {k: v for k, v in m.items() if k != "dataset"}))],
        "a manifest that names its data set"),
    "tensors without images": (lambda t: ["show", str(_artifact(t, edit_tensors=lambda d: {"labels": d["labels"]}))],
                               "expected a mapping with images and labels"),
    "tensors holding a list": (lambda t: ["show", str(_artifact(t, edit_tensors=lambda d: [d["images"]]))],
                               "holds list"),
    "labels beyond the data set's classes": (
        lambda t: ["show", str(_artifact(t, edit_tensors=lambda d: {**d, "labels": d["labels"] + 10}))],
        "expected 0..9 for the manifest's 10 classes"),
    "expert manifest not JSON": (lambda t: [*DISTILL, *MTT, str(_buffer(t, manifest="{")), "--out", str(t / "o")],
                                 "manifest.json cannot be read"),
    "expert manifest missing a key": (
        lambda t: [*DISTILL, *MTT, str(_buffer(t, manifest=json.dumps({"format": 1}))), "--out", str(t / "o")],
        "lacks experts, config"),
    "expert file missing": (lambda t: [*DISTILL, *MTT, str(_buffer(t, drop_file=True)), "--out", str(t / "o")],
                            "cannot be read"),
    "expert file truncated": (lambda t: [*DISTILL, *MTT, str(_buffer(t, truncate=True)), "--out", str(t / "o")],
                              "cannot be read"),
    "import: no such file": (lambda t: ["import", str(t / "res.pt"), "--dataset", "digits", "--out", str(t / "o")],
                             "path="),
    "import: a normalization that is not one": (
        lambda t: ["import", str(_released(t)), "--dataset", "digits", "--normalization", "imagenet", "--out",
                   str(t / "o")], "normalization="),
    "import: images of another size": (
        lambda t: ["import", str(_released(t, size=9)), "--dataset", "digits", "--out", str(t / "o")],
        "expected (N, 1, 8, 8)"),
    "import: a layout option it does not take": (
        lambda t: ["import", str(_released(t)), "--dataset", "digits", "--layout-opt", "iteration=3", "--out",
                   str(t / "o")], "layout_options="),
}


def _released(t, size=8):
    torch.save({"data": [[torch.randn(20, 1, size, size), torch.arange(20) % 10]]}, t / "res.pt")
    return t / "res.pt"


def _zero_byte(t):
    root = _folder(t / "f", ["a", "b"])
    (root / "a" / "0.png").write_bytes(b"")
    return root


def _mixed(t):
    return _folder(t / "f", ["a", "b"], make=lambda c, i: np.zeros((8, 8, 3) if c == "b" else (8, 8), np.uint8))


def _file(t):
    (t / "file").write_text("not a folder")
    return t / "file"


def _object_npz(t):
    np.savez(t / "d.npz", x_train=np.array([{}], dtype=object), y_train=[0], x_test=np.zeros((1, 8, 8)), y_test=[0])
    return t / "d.npz"


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_command_line_names_what_is_wrong(case, tmp_path, capsys):
    build, expected = CASES[case]
    argv = build(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith(f"coredistill {argv[0]}: error: ")
    assert expected in err, err
    assert not (tmp_path / "o").exists()  # a refused run writes nothing


@pytest.mark.parametrize("kw, expected", [
    ({"seed": -1}, "seed=-1"), ({"seed": "a"}, "seed='a'"), ({"seed": 1.5}, "seed=1.5"),
    ({"checkpoint_every": 2}, "checkpoint_dir=None: expected a folder"), ({"resume": True}, "checkpoint_dir=None"),
])
def test_the_api_names_what_is_wrong(kw, expected, digits):
    with pytest.raises(CoredistillError, match=expected):
        distill(digits, ipc=1, preset="tiny", evaluate_with=(), progress=False, **kw)


def test_a_closed_pipe_ends_show_quietly(tmp_path):
    import subprocess
    import sys

    art = _artifact(tmp_path)
    proc = subprocess.run(f"{sys.executable} -m coredistill show {art} --manifest | head -1", shell=True,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and proc.stdout.startswith("artifact")

