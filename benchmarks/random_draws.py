"""Random real images at IPC 1: how far each stored draw's images sit from their class means, against its accuracy.

One random selection of ten images is one draw; the reproduce grid evaluates many (seeds 0-19). This recomputes
each seed's selection by its cell's own selection step (`pipeline.select_initial` on the grid's cell; no
training) and asks whether a draw's typicality — the mean pixel distance from its images to their class means —
predicts the accuracy stored for it, and how much of a difference between two halves of the draws it explains.

    python benchmarks/random_draws.py                       # both data sets, seeds 0-19, halves 0-9 / 10-19
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

import torch

from coredistill.bench import Grid, read_results
from coredistill.data import load_dataset
from coredistill.pipeline import SEED_NAMES, build_parts, prepare, select_initial
from coredistill.seeding import child_seeds

ROOT = Path(__file__).resolve().parent


def drawn(cell, dataset, data) -> np.ndarray:
    """The train indices ``cell``'s run selects (its own selection step, no training)."""
    seeds = child_seeds(cell.run.seed, SEED_NAMES)
    return select_initial(cell.run, build_parts(cell.run), dataset, data, seeds, torch.device("cpu"), False,
                          {}).indices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="reproduce", help="a grid under benchmarks/grids/ (its results folder)")
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    parser.add_argument("--split", type=int, default=10, help="seeds below this are the first half")
    args = parser.parse_args(argv)
    grid = Grid.load(ROOT / "grids" / f"{args.grid}.yaml")
    stored = read_results(ROOT / "results" / args.grid)
    draws = [c for c in grid.cells() if (c.method, c.variant, c.ipc) == ("none", "random", 1) and c.hash in stored]
    print("| data set | draws | r(distance, acc) | p | distance halves | Welch p | acc halves | residual gap | Welch p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        cells = sorted((c for c in draws if c.dataset == name), key=lambda c: c.seed)
        ds = load_dataset(name)
        data = prepare(ds, cells[0].run.zca_eps)
        x = ds.x_train.reshape(len(ds.x_train), -1).numpy().astype(np.float32)  # raw pixels: the distance's units
        y = ds.y_train.numpy()
        means = np.stack([x[y == c].mean(0) for c in range(ds.num_classes)])
        dist = np.array([np.linalg.norm(x[i] - means[y[i]], axis=1).mean() for i in
                         (drawn(c, ds, data) for c in cells)])
        acc = np.array([100 * stored[c.hash]["accuracy"] for c in cells])
        first = np.array([c.seed for c in cells]) < args.split
        fit = stats.linregress(dist, acc)
        resid = acc - (fit.intercept + fit.slope * dist)
        d_p = stats.ttest_ind(dist[first], dist[~first], equal_var=False).pvalue
        r_p = stats.ttest_ind(resid[first], resid[~first], equal_var=False).pvalue
        print(f"| {name} | {len(cells)} | {fit.rvalue:+.2f} | {fit.pvalue:.3f} | {dist[first].mean():.0f} / "
              f"{dist[~first].mean():.0f} | {d_p:.2f} | {acc[first].mean():.2f} / {acc[~first].mean():.2f} | "
              f"{resid[~first].mean() - resid[first].mean():+.2f} | {r_p:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
