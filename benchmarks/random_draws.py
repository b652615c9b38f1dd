"""Random real images at IPC 1: how far each stored draw's images sit from their class means, against its accuracy.

One random selection of ten images is one draw; the reproduce grid evaluates many (seeds 0-19). This recomputes
each seed's selection exactly as its cell made it (the `random` initializer with the run's `select` child seed; no
training) and asks whether a draw's typicality — the mean pixel distance from its images to their class means —
predicts the accuracy stored for it, and how much of a difference between two halves of the draws it explains.

    python benchmarks/random_draws.py                       # both data sets, seeds 0-19, halves 0-9 / 10-19
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

from coredistill.bench import read_results
from coredistill.data import load_dataset
from coredistill.pipeline import SEED_NAMES
from coredistill.seeding import child_seeds
from coredistill.select import create_initializer

ROOT = Path(__file__).resolve().parent


def draw_distance(x: np.ndarray, y: np.ndarray, class_means: np.ndarray, seed: int, ipc: int) -> float:
    """Mean distance from the images seed ``seed``'s random selection picks to their class means."""
    rng = np.random.default_rng(child_seeds(seed, SEED_NAMES)["select"])
    idx = create_initializer("random").select(x, y, ipc, rng).indices
    return float(np.linalg.norm(x[idx] - class_means[y[idx]], axis=1).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "results" / "reproduce"))
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    parser.add_argument("--split", type=int, default=10, help="seeds below this are the first half")
    args = parser.parse_args(argv)
    stored = {(r["dataset"], r["seed"]): 100 * r["accuracy"] for r in read_results(Path(args.results)).values()
              if r["method"] == "none" and r["variant"] == "random" and r["ipc"] == 1}
    print("| data set | draws | r(distance, acc) | p | distance halves | Welch p | acc halves | residual gap | Welch p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        seeds = sorted(s for d, s in stored if d == name)
        ds = load_dataset(name)
        x = ds.x_train.reshape(len(ds.x_train), -1).numpy().astype(np.float32)
        y = ds.y_train.numpy()
        means = np.stack([x[y == c].mean(0) for c in range(ds.num_classes)])
        dist = np.array([draw_distance(x, y, means, s, 1) for s in seeds])
        acc = np.array([stored[(name, s)] for s in seeds])
        first = np.array(seeds) < args.split
        fit = stats.linregress(dist, acc)
        resid = acc - (fit.intercept + fit.slope * dist)
        d_p = stats.ttest_ind(dist[first], dist[~first], equal_var=False).pvalue
        r_p = stats.ttest_ind(resid[first], resid[~first], equal_var=False).pvalue
        print(f"| {name} | {len(seeds)} | {fit.rvalue:+.2f} | {fit.pvalue:.3f} | {dist[first].mean():.0f} / "
              f"{dist[~first].mean():.0f} | {d_p:.2f} | {acc[first].mean():.2f} / {acc[~first].mean():.2f} | "
              f"{resid[~first].mean() - resid[first].mean():+.2f} | {r_p:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
