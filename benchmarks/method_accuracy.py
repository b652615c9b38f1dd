"""Accuracy of distillation variants under one preset, side by side: method / initializer / batch sampler.

A variant is ``METHOD/INIT/SAMPLER`` with optional sampler options after a colon, e.g.
``dm/random/uniform``, ``dm/kmeans-sensitivity/relative-loss:weighted=True``. Each variant's Δ and paired
p-value (t-test on per-seed differences; every variant of a seed shares the eval seed, so the eval nets start
from the same weights) compare it with the same method and initializer under uniform batches when that variant
is listed, else with the first variant.

Resumable: one JSON line per (dataset, ipc, variant, seed) cell, one file per data set under --out; finished cells
are skipped, so several processes (one per data set, ``--threads 1`` each) can share the work on a small machine.

    python benchmarks/method_accuracy.py --datasets mnist fashion-mnist --ipc 1 10 --seeds 0 1 2 \\
        --variants none/random/uniform dm/random/uniform dc/random/uniform dsa/random/uniform
"""
from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from coredistill.data import load_dataset
from coredistill.pipeline import distill
from coredistill.table import format_table

DEFAULT_VARIANTS = ["none/random/uniform", "dm/random/uniform", "dc/random/uniform", "dsa/random/uniform"]


def parse_variant(text: str) -> dict:
    head, _, opts = text.partition(":")
    parts = head.split("/")
    if len(parts) != 3:
        raise SystemExit(f"--variants: {text!r}: expected METHOD/INIT/SAMPLER[:key=value,...]")
    options = {}
    for pair in filter(None, opts.split(",")):
        key, _, raw = pair.partition("=")
        try:
            options[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            options[key] = raw
    return {"method": parts[0], "init": parts[1], "sampler": parts[2], "sampler_options": options}


def run_cell(ds, variant: dict, ipc: int, seed: int, preset: str, eval_every: int = 0) -> dict:
    t0 = time.perf_counter()
    res = distill(ds, ipc=ipc, method=variant["method"], init=variant["init"], sampler=variant["sampler"],
                  sampler_options=variant["sampler_options"], preset=preset, seed=seed, eval_every=eval_every,
                  progress=False)
    m = res.manifest["metrics"][res.manifest["preset"]["model"]]
    log = res.manifest["log"]
    refreshes = (log.get("sampler") or {}).get("refreshes", [])
    return {"acc": m["mean"], "acc_nets_std": m["std"], "accuracies": m["accuracies"],
            "metrics": {k: v["mean"] for k, v in res.manifest["metrics"].items()},
            "timings": res.manifest["timings"], "loop_s": log.get("seconds"), "sampler_s": log.get("sampler_seconds"),
            "sampler_share": log.get("sampler_share"), "curve": res.manifest.get("curve", []),
            # per refresh: mean over classes of entropy / log(pool) and of the pool fraction holding 90 % of p
            "refreshes": [{"iteration": h["iteration"], "seconds": h["seconds"],
                           "entropy_ratio": float(np.mean([c["entropy"] / c["max_entropy"] for c in h["classes"]])),
                           "mass90": float(np.mean([c["mass90_fraction"] for c in h["classes"]])),
                           "mean_loss": float(np.mean([c["mean_loss"] for c in h["classes"]]))}
                          for h in refreshes],
            "threads": torch.get_num_threads(), "wall_s": time.perf_counter() - t0}


def baseline_of(variant: str, variants: list[str]) -> str:
    """The same method and initializer with uniform batches when that is another listed variant, else the first."""
    v = parse_variant(variant)
    sibling = f"{v['method']}/{v['init']}/uniform"
    return sibling if sibling in variants and sibling != variant else variants[0]


def summarize(done: dict, datasets, ipcs, variants, seeds) -> str:
    rows = []
    for name in datasets:
        for ipc in ipcs:
            for v in variants:
                cells = {s: done[(name, ipc, v, s)] for s in seeds if (name, ipc, v, s) in done}
                if not cells:
                    continue
                ref = baseline_of(v, variants)
                base = {s: done[(name, ipc, ref, s)]["acc"] for s in seeds if (name, ipc, ref, s) in done}
                accs = np.array([c["acc"] for c in cells.values()])
                paired = [s for s in cells if s in base]
                delta = p = ""
                if v != ref and paired:
                    d = np.array([cells[s]["acc"] - base[s] for s in paired])
                    delta = f"{100 * d.mean():+.2f} vs {ref}"
                    if len(d) > 1 and d.std() > 0:
                        p = f"{stats.ttest_1samp(d, 0.0).pvalue:.3f}"
                secs = np.mean([c["timings"]["distill_s"] for c in cells.values()])
                share = [c["sampler_share"] for c in cells.values() if c.get("sampler_share")]
                rows.append([name, ipc, v, f"{100 * accs.mean():.2f} ± {100 * accs.std():.2f}", len(accs), delta, p,
                             f"{secs:.0f}", f"{100 * np.mean(share):.0f} %" if share else ""])
    return format_table(["dataset", "ipc", "variant", "acc % (mean ± std over seeds)", "seeds",
                         "Δ (paired, same seeds)", "paired p", "distill s", "scoring share"], rows)


def summarize_curves(done: dict, datasets, ipcs, variants, seeds) -> str:
    """Accuracy at each evaluated iteration, and the first iteration at which a variant reaches its baseline's
    final accuracy (same seed; the baseline as in :func:`summarize`)."""
    rows = []
    for name in datasets:
        for ipc in ipcs:
            for seed in seeds:
                for v in variants:
                    ref = baseline_of(v, variants)
                    base = done.get((name, ipc, ref, seed))
                    cell = done.get((name, ipc, v, seed))
                    if not cell or len(cell.get("curve", [])) < 2:
                        continue
                    reach = "(baseline)"
                    if base is not None and v != ref and parse_variant(ref)["method"] == parse_variant(v)["method"]:
                        hits = [c["iteration"] for c in cell["curve"] if c["accuracy"] >= base["acc"]]
                        reach = str(hits[0]) if hits else "never"
                    points = " · ".join(f"{c['iteration']}: {100 * c['accuracy']:.1f}" for c in cell["curve"])
                    rows.append([name, ipc, seed, v, points, reach])
    return format_table(["dataset", "ipc", "seed", "variant", "accuracy % at iteration",
                         "reaches its baseline's final accuracy at"], rows) if rows else ""


def read_results(folder: Path) -> dict:
    done = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            r = json.loads(line)
            done[(r["dataset"], r["ipc"], r["variant"], r["seed"])] = r
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    ap.add_argument("--ipc", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results/method_accuracy_PRESET)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads of this process")
    ap.add_argument("--eval-every", type=int, default=0, help="also evaluate every N iterations (accuracy curves; "
                    "use a separate --out: curves cost one evaluation per point)")
    ap.add_argument("--summary-only", action="store_true", help="print the table of what --out holds; run nothing")
    ap.add_argument("--summary", help="also write the printed tables to this markdown file")
    ap.add_argument("--curves-only", action="store_true", help="summarize only the accuracy curves")
    args = ap.parse_args()
    variants = list(dict.fromkeys(args.variants))
    for v in variants:
        parse_variant(v)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out or f"benchmarks/results/method_accuracy_{args.preset}")
    out.mkdir(parents=True, exist_ok=True)
    done = read_results(out)
    if not args.summary_only:
        for name in args.datasets:
            ds = load_dataset(name)
            for ipc in args.ipc:
                for seed in args.seeds:
                    for v in variants:
                        if (name, ipc, v, seed) in done or (name, ipc, v, seed) in read_results(out):
                            continue  # re-read: another process may have finished this cell meanwhile
                        row = {"dataset": name, "ipc": ipc, "variant": v, "seed": seed, "preset": args.preset,
                               **run_cell(ds, parse_variant(v), ipc, seed, args.preset, args.eval_every)}
                        with (out / f"{name}.jsonl").open("a") as f:
                            f.write(json.dumps(row) + "\n")
                        done[(name, ipc, v, seed)] = row
                        print(f"{name} ipc {ipc} seed {seed} {v}: {100 * row['acc']:.2f}% ({row['wall_s']:.0f} s)",
                              flush=True)
    text = "" if args.curves_only else (
        f"preset {args.preset}; final-epoch test accuracy of the preset's eval nets, mean ± std over seeds\n\n"
        + summarize(done, args.datasets, args.ipc, variants, args.seeds) + "\n")
    curves = summarize_curves(done, args.datasets, args.ipc, variants, args.seeds)
    if curves:
        text += "\naccuracy curves (evaluated with the preset's eval nets at each point)\n\n" + curves + "\n"
    print(text)
    if args.summary:
        Path(args.summary).write_text(text)


if __name__ == "__main__":
    main()
