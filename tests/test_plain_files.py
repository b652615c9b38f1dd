"""Torch files read as plain data only, and a refusal in one line that names what was found — never torch's
advice to load the file with weights_only=False (which would run the code it holds)."""
import io
import os

import pytest
import torch

from coredistill.plain_files import load_plain, why_unreadable


class _Payload:
    def __reduce__(self):
        return (os.getcwd, ())


def _refusal(data: bytes) -> str:
    with pytest.raises(Exception) as caught:
        load_plain(io.BytesIO(data))
    return why_unreadable(caught.value)


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_plain_data_round_trips():
    state = {"images": torch.arange(6.0).reshape(2, 3), "iteration": 3, "log": {"loss": [0.5]}, "name": "x"}
    assert load_plain(io.BytesIO(_saved(state)))["log"] == {"loss": [0.5]}


def test_a_python_object_is_named_and_never_loaded():
    reason = _refusal(_saved({"images": _Payload()}))
    assert reason.startswith("it holds a Python object (posix.getcwd)") and "never unpickled" in reason
    assert "weights_only" not in reason and "\n" not in reason


@pytest.mark.parametrize("data,expected", [
    (b"not a torch file", "not a torch file of plain data (the unpickler stopped: "),
    (_saved({"images": torch.zeros(3)})[:200], "RuntimeError: PytorchStreamReader failed reading zip archive"),
])
def test_a_foreign_or_torn_file_says_so_in_one_sentence(data, expected):
    reason = _refusal(data)
    assert reason.startswith(expected) and "weights_only" not in reason and "\n" not in reason
    assert len(reason) < 200
