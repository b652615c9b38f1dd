"""Derive ``gamma="auto"`` from the validation explorations (issue 18): per method and IPC, which exponent γ of a
teacher-scored relative-loss sampler (p ∝ ℓ^γ over the examples the teacher classifies correctly, its hardest
tenth out) gains most over the method's uniform batches, paired by data set and seed.

Reads every ``benchmarks/results/aligned-explore-*`` grid (validation splits only: a cell scored on the test
split is refused), keeps the cells whose only change from the baseline is such a sampler (random initial images,
no pruning, one γ for the whole run), and writes ``benchmarks/results/aligned-rule.md``: the paired Δ per γ and
the exponent chosen per (method, IPC) — the largest mean Δ. The methods' ``aligned_gamma`` attributes hold those
choices; ``tests/sampling/test_alignment.py`` checks that they still agree with this table.

    python benchmarks/aligned_rule.py
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from coredistill.atomic import write_text  # noqa: E402
from coredistill.bench.report import paired  # noqa: E402
from coredistill.table import format_table  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "aligned-rule.md"


def teacher_gamma(record: dict) -> float | None:
    """γ of a cell that differs from its baseline only by a teacher-scored sampler; None for any other cell."""
    cfg = record.get("config") or {}
    opts = cfg.get("sampler_options") or {}
    if (record["sampler"] != "relative-loss" or opts.get("predictor") != "teacher" or opts.get("gamma_end")
            is not None or cfg.get("init") != "random" or cfg.get("prune") or cfg.get("init_filter")):
        return None
    return float(opts.get("gamma", 1.0))


def load(folders: list[Path]) -> list[dict]:
    records = {}
    for folder in folders:
        path = folder / "results.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if not (r.get("config") or {}).get("dataset_options", {}).get("validation"):
                raise SystemExit(f"{folder.name}: cell {r['hash'][:8]} was scored on the test split; the rule is "
                                 "chosen on validation splits only")
            records[r["hash"]] = r  # a cell reused by several grids counts once
    return list(records.values())


def rule(records: list[dict]) -> tuple[list[list], dict[str, dict[int, float]]]:
    base = {(r["method"], r["dataset"], r["ipc"], r["seed"]): r["accuracy"] for r in records
            if r["variant"] == "baseline"}
    by: dict[tuple, dict[tuple, float]] = defaultdict(dict)
    for r in records:
        gamma = teacher_gamma(r)
        if gamma is None or r["method"] == "none":
            continue
        by[(r["method"], r["ipc"], gamma)][(r["dataset"], r["seed"])] = r["accuracy"]
    rows, chosen = [], defaultdict(dict)
    best: dict[tuple, tuple[float, float]] = {}
    stats = {}
    for (method, ipc, gamma), acc in sorted(by.items()):
        b = {k: base[(method, k[0], ipc, k[1])] for k in acc if (method, k[0], ipc, k[1]) in base}
        keys = sorted(b)
        mean, std, p, n = paired({i: acc[k] for i, k in enumerate(keys)}, {i: b[k] for i, k in enumerate(keys)})
        if n == 0:
            continue
        per_set = {d: np.mean([acc[k] - b[k] for k in keys if k[0] == d]) for d in sorted({k[0] for k in keys})}
        stats[(method, ipc, gamma)] = (mean, std, p, n, per_set)
        if (method, ipc) not in best or mean > best[(method, ipc)][1]:
            best[(method, ipc)] = (gamma, mean)
    for (method, ipc, gamma), (mean, std, p, n, per_set) in stats.items():
        pick = best[(method, ipc)][0] == gamma
        if pick:
            chosen[method][ipc] = gamma
        rows.append([method, ipc, f"{gamma:+g}", n, f"{100 * mean:+.2f}" + (f" ± {100 * std:.2f}" if n > 1 else ""),
                     "" if p != p else f"{p:.3f}", ", ".join(f"{d} {100 * v:+.2f}" for d, v in per_set.items()),
                     "chosen" if pick else ""])
    return rows, dict(chosen)


def main() -> None:
    folders = sorted(f for f in (ROOT / "benchmarks" / "results").glob("aligned-explore-*") if f.is_dir())
    rows, chosen = rule(load(folders))
    table = format_table(["method", "ipc", "γ", "pairs (data set × seed)", "Δ vs uniform batches (paired)", "p",
                          "per data set", "γ=auto"], rows)
    lines = [f"Validation splits of {', '.join(f.name for f in folders)}: teacher-scored batches (p ∝ ℓ^γ, the "
             "teacher's mistakes and hardest tenth never drawn) vs the method's uniform batches, random initial "
             "images. `gamma=\"auto\"` takes the γ with the largest mean Δ per method and IPC.", "", table, "",
             "Chosen (`aligned_gamma`): " + "; ".join(f"{m} {dict(sorted(c.items()))}" for m, c in sorted(chosen.items()))]
    write_text(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
