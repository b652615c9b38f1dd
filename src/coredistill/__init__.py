"""coredistill: dataset distillation with provable subset selection."""
from __future__ import annotations

__version__ = "0.1.0"
