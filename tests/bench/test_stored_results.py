"""Stored results keep their meaning: every finished cell in benchmarks/results/GRID/results.jsonl is found again
by the hash its grid's cell has today, unless a preset's method settings or the grid's expert buffers were changed on
purpose since (issue 19 retunes the cpu preset; MTT's cells moved to 8 experts) and the grid did not freeze them
(`preset_methods`): a change to how runs resolve or hash must never orphan a stored result."""
from pathlib import Path

import pytest

from coredistill.atomic import config_hash
from coredistill.bench import Grid, read_results

ROOT = Path(__file__).resolve().parents[2] / "benchmarks"
STORED = [p for p in sorted((ROOT / "grids").glob("*.yaml")) if (ROOT / "results" / p.stem / "results.jsonl").exists()]


def test_there_are_stored_results_to_check():
    assert len(STORED) >= 3


@pytest.mark.parametrize("grid_path", STORED, ids=lambda p: p.stem)
def test_every_stored_cell_is_found_by_todays_hash(grid_path):
    done = read_results(ROOT / "results" / grid_path.stem)
    grid = Grid.load(grid_path)
    cells = grid.cells()
    by_hash = {c.hash: c for c in cells}
    by_place = {(c.method, c.variant, c.dataset, c.ipc, c.seed): c for c in cells}
    for h, r in done.items():
        assert config_hash(r["config"]) == h  # the hash of what was run is still computed the same way
        c = by_hash.get(h)
        if c is not None:  # the stored record describes the cell that now has its hash (a variant may be renamed)
            assert (r["method"], r["dataset"], r["ipc"], r["seed"]) == (c.method, c.dataset, c.ipc, c.seed)
            continue
        assert r["method"] not in grid.preset_methods, f"{r['method']}/{r['variant']}: its frozen settings moved"
        today = by_place.get((r["method"], r["variant"], r["dataset"], r["ipc"], r["seed"]))
        assert today is not None, f"{r['method']}/{r['variant']} {r['dataset']} ipc {r['ipc']} seed {r['seed']}: gone"
        changed = {k for k in set(r["config"]) | set(today.config) if r["config"].get(k) != today.config.get(k)}
        # only the method's settings (or, for a method trained on experts, its buffers) moved on
        assert changed and changed <= {"method_options", "experts"}, (r["variant"], changed)
        assert "experts" not in changed or r["config"].get("experts"), (r["variant"], changed)
