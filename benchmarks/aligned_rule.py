"""Derive the methods' ``aligned_sampling`` (``sampler="aligned"``, ``gamma="auto"``) from the validation explorations
(issue 18): per method and IPC, which relative-loss batches gain most over the method's uniform batches, paired by
data set and seed — a teacher's scores (p ∝ ℓ^γ over the examples it classifies correctly, its hardest tenth out)
at γ = −1 / 0 / +1, or the synthetic set's proxy (the coreset paper's scores) with or without its hardest tenth.

Reads every ``benchmarks/results/aligned-explore-*`` grid (validation splits only: a cell scored on the test
split is refused), keeps the cells whose only change from the baseline is the sampler (random initial images, no
pruning, one γ for the whole run), and writes ``benchmarks/results/aligned-rule.md``: the paired Δ per sampler
setting and the setting chosen per (method, IPC) — the largest mean Δ, provided it is positive (otherwise
uniform batches: ``None``). The methods' ``aligned_sampling`` attributes hold those
choices; ``tests/sampling/test_alignment.py`` checks that they agree with this table.

It also applies aligned-final's pre-registered rule for aligned-both's feature space (its grid's header): the space,
pixels (``rep-init``) or the teacher's (``rep-init-teacher``), with the larger mean paired Δ vs the baseline over
every (method, data set, IPC, seed) of aligned-explore-dm / -dsa where both ran; ties: pixels.

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
# explored methods standing for others (the exploration grids say why): their rules are the same
STANDS_FOR = {"dsa": "dc", "rfad": "kip"}


def sampler_setting(record: dict) -> tuple | None:
    """The relative-loss setting of a cell that differs from its baseline only in its sampler, as sorted
    (option, value) pairs; None for any other cell. A trajectory-matching cell meets real data only through its
    experts: its record's sampler is theirs, and so are the options read here."""
    cfg = record.get("config") or {}
    experts = cfg.get("experts") or {}
    opts = (experts if experts.get("sampler") else cfg).get("sampler_options") or {}
    if (record["sampler"] != "relative-loss" or opts.get("gamma_end") is not None or cfg.get("init") != "random"
            or cfg.get("prune") or cfg.get("init_filter")):
        return None
    setting = {"gamma": float(opts.get("gamma", 1.0))}
    for key in ("predictor", "drop_misclassified", "drop_hardest"):
        if opts.get(key) not in (None, False, 0, 0.0, "auto"):
            setting[key] = opts[key]
    return tuple(sorted(setting.items()))


def describe(setting: tuple) -> str:
    s = dict(setting)
    parts = [f"{s.get('predictor', 'proxy')} γ {s['gamma']:+g}"]
    if s.get("drop_misclassified"):
        parts.append("its mistakes out")
    if s.get("drop_hardest"):
        parts.append(f"hardest {s['drop_hardest']:g} out")
    return ", ".join(parts)


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


def rule(records: list[dict]) -> tuple[list[list], dict[str, dict[int, dict]]]:
    base = {(r["method"], r["dataset"], r["ipc"], r["seed"]): r["accuracy"] for r in records
            if r["variant"] == "baseline"}
    by: dict[tuple, dict[tuple, float]] = defaultdict(dict)
    for r in records:
        setting = sampler_setting(r)
        if setting is not None and r["method"] != "none":
            by[(r["method"], r["ipc"], setting)][(r["dataset"], r["seed"])] = r["accuracy"]
    stats, best = {}, {}
    for (method, ipc, setting), acc in sorted(by.items()):
        keys = sorted(k for k in acc if (method, k[0], ipc, k[1]) in base)
        if not keys:
            continue
        b = {k: base[(method, k[0], ipc, k[1])] for k in keys}
        mean, std, p, n = paired({i: acc[k] for i, k in enumerate(keys)}, {i: b[k] for i, k in enumerate(keys)})
        per_set = {d: np.mean([acc[k] - b[k] for k in keys if k[0] == d]) for d in sorted({k[0] for k in keys})}
        stats[(method, ipc, setting)] = (mean, std, p, n, per_set)
        if mean > 0 and ((method, ipc) not in best or mean > best[(method, ipc)][1]):
            best[(method, ipc)] = (setting, mean)
    rows, chosen = [], defaultdict(dict)
    for method, ipc, _ in stats:  # measured, and nothing beat uniform batches
        chosen[method].setdefault(ipc, None)
    for (method, ipc, setting), (mean, std, p, n, per_set) in stats.items():
        pick = best.get((method, ipc), (None,))[0] == setting
        if pick:
            chosen[method][ipc] = dict(setting)
        rows.append([method, ipc, describe(setting), n,
                     f"{100 * mean:+.2f}" + (f" ± {100 * std:.2f}" if n > 1 else ""), "" if p != p else f"{p:.3f}",
                     ", ".join(f"{d} {100 * v:+.2f}" for d, v in per_set.items()), "chosen" if pick else ""])
    for explored, other in STANDS_FOR.items():
        if explored in chosen:
            chosen[other] = chosen[explored]
    return rows, {m: dict(sorted(c.items())) for m, c in sorted(chosen.items())}


FEATURE_SPACE_GRIDS = ("aligned-explore-dm", "aligned-explore-dsa")
FEATURE_SPACES = {"rep-init": "pixels", "rep-init-teacher": "teacher"}


def feature_space(records: list[dict]) -> tuple[str, dict[str, float], int]:
    """aligned-both's feature space by the pre-registered rule: (the space, mean paired Δ per space, pairs)."""
    acc: dict[tuple, dict[str, float]] = defaultdict(dict)
    for r in records:
        acc[(r["method"], r["dataset"], r["ipc"], r["seed"])][r["variant"]] = r["accuracy"]
    both = [v for v in acc.values() if "baseline" in v and all(name in v for name in FEATURE_SPACES)]
    means = {space: float(np.mean([v[name] - v["baseline"] for v in both])) if both else float("nan")
             for name, space in FEATURE_SPACES.items()}
    pick = "teacher" if both and means["teacher"] > means["pixels"] else "pixels"
    return pick, means, len(both)


def main() -> None:
    folders = sorted(f for f in (ROOT / "benchmarks" / "results").glob("aligned-explore-*") if f.is_dir())
    rows, chosen = rule(load(folders))
    table = format_table(["method", "ipc", "batches (relative loss)", "pairs (data set × seed)",
                          "Δ vs uniform batches (paired)", "p", "per data set", "aligned"], rows)
    lines = [f"Validation splits of {', '.join(f.name for f in folders)}: relative-loss batches vs the method's "
             "uniform batches, random initial images. `sampler=\"aligned\"` takes the setting with the largest "
             "mean Δ per method and IPC when it is positive.", "", table, "",
             "aligned_sampling (" + ", ".join(f"{o} as {e}" for e, o in STANDS_FOR.items()) + "): "
             + json.dumps(chosen, sort_keys=True)]
    space, means, n = feature_space(load([f for f in folders if f.name in FEATURE_SPACE_GRIDS]))
    lines += ["", f"aligned-both's feature space ({' / '.join(FEATURE_SPACE_GRIDS)}, {n} (method, data set, IPC, "
              "seed) pairs where rep-init and rep-init-teacher both ran; mean paired Δ vs baseline: "
              + ", ".join(f"{s_} {100 * m:+.2f}" for s_, m in means.items()) + f"): {space}"]
    write_text(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
