"""Stored results keep their meaning: every finished cell in benchmarks/results/GRID/results.jsonl is found again
by the hash its grid's cell has today (a change to how runs resolve or hash must not orphan a stored result)."""
from pathlib import Path

import pytest

from coredistill.bench import Grid, read_results

ROOT = Path(__file__).resolve().parents[2] / "benchmarks"
STORED = [p for p in sorted((ROOT / "grids").glob("*.yaml")) if (ROOT / "results" / p.stem / "results.jsonl").exists()]


def test_there_are_stored_results_to_check():
    assert len(STORED) >= 3


@pytest.mark.parametrize("grid_path", STORED, ids=lambda p: p.stem)
def test_every_stored_cell_is_found_by_todays_hash(grid_path):
    done = read_results(ROOT / "results" / grid_path.stem)
    cells = {c.hash: c for c in Grid.load(grid_path).cells()}
    missing = [f"{r['method']}/{r['variant']} {r['dataset']} ipc {r['ipc']} seed {r['seed']}"
               for h, r in done.items() if h not in cells]
    assert not missing, f"{len(missing)} of {len(done)} stored cells no longer found: {missing[:5]}"
    for h, r in done.items():  # and the stored record describes the cell that now has its hash
        c = cells[h]
        assert (r["method"], r["variant"], r["dataset"], r["ipc"], r["seed"]) == (c.method, c.variant, c.dataset,
                                                                                  c.ipc, c.seed)
