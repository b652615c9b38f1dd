"""Resolve the compute device once, with a clear error for an unavailable one."""
from __future__ import annotations

import torch

from .errors import invalid


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` or ``"auto"``: CUDA when available, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise invalid("device", device, "'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise invalid("device", str(device), "'cpu' or 'auto': CUDA is not available on this machine")
    return dev
