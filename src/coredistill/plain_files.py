"""Reading torch files as plain data: tensors, numbers, strings, lists and dicts, never code.

Every ``.pt`` file the library reads (artifacts, checkpoints, expert trajectories, cached teachers, sets released
by the field's code) may come from someone else, so it is read with ``torch.load(weights_only=True)``, which
refuses to unpickle anything else. When a file is refused, :func:`why_unreadable` says why in one line for the
caller's error message — without torch's advice to load the file with ``weights_only=False``, which would run
whatever code it holds.

>>> import io, torch
>>> buffer = io.BytesIO()
>>> torch.save({"images": torch.zeros(2)}, buffer)
>>> load_plain(io.BytesIO(buffer.getvalue()))["images"].shape
torch.Size([2])
>>> try:
...     load_plain(io.BytesIO(b"not a torch file"))
... except Exception as e:
...     print(why_unreadable(e))
not a torch file of plain data (the unpickler stopped: Unsupported operand 110)
"""
from __future__ import annotations

import pickle
import re
from typing import IO, Any

import torch


def load_plain(source: str | Any | IO[bytes]) -> Any:
    """A torch file's contents on the CPU, refused unless it holds plain data only."""
    return torch.load(source, map_location="cpu", weights_only=True)


def why_unreadable(error: BaseException) -> str:
    """One line on why :func:`load_plain` refused a file."""
    text = str(error)
    if isinstance(error, pickle.UnpicklingError):
        found = re.search(r"GLOBAL ([\w.]+)", text)  # the object a file names, in torch's several wordings
        if found:
            return (f"it holds a Python object ({found.group(1)}) beyond plain tensors, numbers, strings, lists and "
                    "dicts; such objects are never unpickled here, since unpickling them can run code")
        detail = text.split("WeightsUnpickler error:", 1)[-1] if "WeightsUnpickler error:" in text else ""
        line = next((part.strip() for part in detail.splitlines() if part.strip()), "")
        return f"not a torch file of plain data (the unpickler stopped{': ' + line[:200] if line else ''})"
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return f"{type(error).__name__}: {line.split('. ')[0][:300]}"  # the first sentence: what failed


__all__ = ["load_plain", "why_unreadable"]
