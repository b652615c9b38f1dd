"""Benchmark grids: baseline vs +init vs +sampling vs +both for every method, resumable, with reports.

    coredistill bench --grid benchmarks/grids/cpu.yaml --jobs 2
"""
from __future__ import annotations

from ..variants import VARIANTS, Variant
from .grid import Cell, Grid
from .report import write_report
from .runner import read_results, run_cell, run_grid

__all__ = ["VARIANTS", "Cell", "Grid", "Variant", "read_results", "run_cell", "run_grid", "write_report"]
