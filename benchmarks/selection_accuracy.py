"""Accuracy of real-image selections (no learning) under one preset: random vs every initializer.

Resumable: one JSON line per (dataset, init, ipc, seed) cell in --out; finished cells are skipped.

    python benchmarks/selection_accuracy.py --dataset fashion-mnist --ipc 1 10 --seeds 0 1 2 --preset cpu
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from coredistill.data import load_dataset
from coredistill.pipeline import distill
from coredistill.select import list_initializers
from coredistill.table import format_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--ipc", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--inits", nargs="+", default=list_initializers())
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out or f"benchmarks/results/selection_accuracy_{args.dataset}_{args.preset}.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done[(r["init"], r["ipc"], r["seed"])] = r
    ds = load_dataset(args.dataset)
    for ipc in args.ipc:
        for seed in args.seeds:
            for init in args.inits:
                if (init, ipc, seed) in done:
                    continue
                t0 = time.perf_counter()
                res = distill(ds, ipc=ipc, init=init, preset=args.preset, seed=seed, progress=False)
                m = res.manifest["metrics"]["ConvNet"]
                row = {"dataset": args.dataset, "init": init, "ipc": ipc, "seed": seed, "preset": args.preset,
                       "acc": m["mean"], "acc_nets_std": m["std"], "accuracies": m["accuracies"],
                       "features": res.manifest["initializer"]["features"], "timings": res.manifest["timings"],
                       "wall_s": time.perf_counter() - t0}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                done[(init, ipc, seed)] = row
                print(f"{args.dataset} ipc {ipc} seed {seed} {init}: {100 * m['mean']:.2f}% "
                      f"({row['wall_s']:.0f} s)", flush=True)
    rows = []
    for ipc in args.ipc:
        base = [done[("random", ipc, s)]["acc"] for s in args.seeds if ("random", ipc, s) in done]
        for init in args.inits:
            accs = [done[(init, ipc, s)]["acc"] for s in args.seeds if (init, ipc, s) in done]
            if not accs:
                continue
            delta = (f"{100 * (np.mean(accs) - np.mean(base)):+.2f}" if init != "random" and base else "")
            sel = np.mean([done[(init, ipc, s)]["timings"]["select_s"] + done[(init, ipc, s)]["timings"]["features_s"]
                           for s in args.seeds if (init, ipc, s) in done])
            rows.append([args.dataset, ipc, init, f"{100 * np.mean(accs):.2f} ± {100 * np.std(accs):.2f}",
                         len(accs), delta, f"{sel:.1f}"])
    print(format_table(["dataset", "ipc", "init", "acc % (mean ± std over seeds)", "seeds", "Δ vs random",
                        "features+select s"], rows))


if __name__ == "__main__":
    main()
