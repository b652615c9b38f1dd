"""Carry cells measured with ``method_accuracy.py`` into a bench grid's results, when they are the same cells.

A ``method_accuracy.py`` cell ``METHOD/INIT/SAMPLER`` (no extra options) ran ``distill`` with the preset's
defaults, exactly as the bench cell of the same method, init and sampler does; this writes it under that cell's
hash, marked ``imported_from``. Only do this for records produced by the current code and preset (the hash
covers the configuration, not the code): fields the old script did not measure (peak memory) are left empty.

    python benchmarks/import_method_accuracy.py --grid cpu --source benchmarks/results/kernel_methods_cpu \\
        --method rfad
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from coredistill.bench import Grid
from coredistill.bench.runner import RESULTS, _versions, read_results


def convert(old: dict, cell) -> dict:
    t = old["timings"]
    return {
        "hash": cell.hash, "method": cell.method, "dataset": cell.dataset, "ipc": cell.ipc, "variant": cell.variant,
        "seed": cell.seed, "init": cell.init, "sampler": cell.sampler, "preset": cell.run.preset.name,
        "accuracy": old["acc"], "accuracy_std_nets": old["acc_nets_std"], "accuracies": old["accuracies"],
        "metrics": old["metrics"], "select_s": t["features_s"] + t["select_s"], "distill_s": t["distill_s"],
        "scoring_s": old.get("sampler_s") or 0.0, "eval_s": t["eval_s"], "experts_build_s": None,
        "iterations": int(cell.config["method_options"].get("iterations", 0)), "peak_mb": None,
        "peak_scope": "not measured", "threads": old["threads"], "wall_s": old["wall_s"], "curve": old["curve"],
        "refreshes": old.get("refreshes", []), "versions": _versions(), "config": cell.config,
        "imported_from": "method_accuracy.py",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", required=True)
    ap.add_argument("--source", required=True, help="a method_accuracy.py results folder")
    ap.add_argument("--method", required=True)
    ap.add_argument("--out", help="bench results folder (default benchmarks/results/GRID_NAME)")
    args = ap.parse_args()
    path = Path(args.grid)
    grid = Grid.load(path if path.suffix else Path("benchmarks/grids") / f"{args.grid}.yaml")
    out = Path(args.out or Path("benchmarks/results") / grid.name)
    out.mkdir(parents=True, exist_ok=True)
    cells = {(c.dataset, c.ipc, c.seed, f"{c.method}/{c.init}/{c.sampler}"): c
             for c in grid.cells() if c.method == args.method and c.experts is None}
    done = read_results(out)
    added = 0
    with (out / RESULTS).open("a") as f:
        for src in sorted(Path(args.source).glob("*.jsonl")):
            for line in src.read_text().splitlines():
                old = json.loads(line)
                cell = cells.get((old["dataset"], old["ipc"], old["seed"], old["variant"]))
                if cell is None or old["preset"] != grid.preset or cell.hash in done:
                    continue
                f.write(json.dumps(convert(old, cell)) + "\n")
                done[cell.hash] = True
                added += 1
    print(f"imported {added} cells into {out / RESULTS}")


if __name__ == "__main__":
    main()
