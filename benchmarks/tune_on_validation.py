"""Tune one option of a method on a validation split carved from train — never on the test split.

Every value is a bench cell (`coredistill.bench`: resumable by config hash, one process per cell, expert buffers
built once and shared) on ``load_dataset(..., validation=N)``: N train images per class are held out as the
evaluation split and the rest is the train split. Prints mean ± std of held-out accuracy per value and writes
``summary.md`` beside ``results.jsonl``.

    python benchmarks/tune_on_validation.py --method mtt --option lr_images --values 1 10 100 1000 \\
        --dataset mnist --validation 500 --ipc 1 --seeds 0 1 --out benchmarks/results/tune_mtt_lr_images_mnist
"""
from __future__ import annotations

import argparse
import ast
from pathlib import Path

import numpy as np

from coredistill.bench import Grid
from coredistill.bench.runner import read_results, run_grid
from coredistill.methods import create_method
from coredistill.presets import get_preset
from coredistill.table import format_table


def _value(raw: str):
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def _on_validation(args, **grid) -> Grid:
    return Grid.from_dict({
        "preset": args.preset, "datasets": [args.dataset], "ipc": args.ipc, "seeds": args.seeds,
        "dataset_options": {args.dataset: {"validation": args.validation, "validation_seed": args.validation_seed}},
        **grid})


def grid_for(args, value) -> Grid:
    return _on_validation(args, name=f"tune-{args.method}-{args.option}", methods=[args.method],
                          variants=["baseline"], selection=[], method_options={args.method: {args.option: value}},
                          experts={"num_experts": args.num_experts})


def reference_grid(args) -> Grid:
    """The same held-out split for real images chosen by ``--reference`` and not learned: what tuning must beat."""
    return _on_validation(args, name="tune-reference", methods=[], selection=[args.reference])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", required=True)
    ap.add_argument("--option", required=True, help="the method option to tune, e.g. lr_images")
    ap.add_argument("--values", nargs="+", required=True, type=_value)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--validation", type=int, default=500, help="train images per class held out")
    ap.add_argument("--validation-seed", type=int, default=0)
    ap.add_argument("--ipc", type=int, nargs="+", default=[1])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--num-experts", type=int, default=2, help="expert buffer size (methods trained on experts)")
    ap.add_argument("--reference", default="random", help="initializer of the no-learning reference row")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    grids = {repr(v): grid_for(args, v) for v in args.values}
    reference = reference_grid(args)
    for grid in [reference, *grids.values()]:
        run_grid(grid, args.out, jobs=args.jobs, threads=args.threads)
    done = read_results(args.out)
    default = get_preset(args.preset).method_options(args.method).get(  # the preset's value, else the method's
        args.option, getattr(create_method(args.method), args.option, None))
    rows = []
    for ipc in args.ipc:
        ref = [100 * done[c.hash]["accuracy"] for c in reference.cells() if c.ipc == ipc and c.hash in done]
        if ref:
            rows.append([args.dataset, ipc, f"({args.reference} real images, not learned)",
                         f"{np.mean(ref):.2f} ± {np.std(ref):.2f}", len(ref), "reference"])
        means = {}
        for key, grid in grids.items():
            accs = [100 * done[c.hash]["accuracy"] for c in grid.cells() if c.ipc == ipc and c.hash in done]
            if accs:
                means[key] = (np.mean(accs), np.std(accs), len(accs))
        best = max(means, key=lambda k: means[k][0]) if means else None
        for key, (mean, std, n) in means.items():
            rows.append([args.dataset, ipc, key + (" (preset)" if key == repr(default) else ""),
                         f"{mean:.2f} ± {std:.2f}", n, "best" if key == best else ""])
    head = (f"{args.method}: {args.option} on a validation split of {args.dataset} ({args.validation} train images "
            f"per class held out, seed {args.validation_seed}); preset {args.preset}; final-epoch accuracy on the "
            f"held-out images, mean ± std over seeds {args.seeds}")
    table = format_table(["dataset", "ipc", args.option, "validation acc %", "seeds", ""], rows)
    (Path(args.out) / "summary.md").write_text(head + "\n\n" + table + "\n")
    print(head)
    print(table)


if __name__ == "__main__":
    main()
