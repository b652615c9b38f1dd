"""The ``kmeans-coreset`` initializer's bound, measured on real classes (issue 18).

Per class of MNIST / Fashion-MNIST (train split, normalized pixels) and k ∈ ``--k`` (= IPC), the k-means cost on
the **whole class** of

* ``coreset centers`` — weighted k-means (k-means++ seeding, weighted Lloyd) on a sensitivity-sampled coreset of
  m points (what ``kmeans-coreset`` fits), for each m in ``--m``;
* ``coreset images`` — the real image nearest each of those centers (what ``kmeans-coreset`` returns);
* ``uniform centers`` — the same solver on m points drawn uniformly (weights n/m), the bound's control;
* ``Lloyd's images`` — the real image nearest each whole-class Lloyd center: what a real-image initializer can
  reach by this route without a coreset (real images sit far from a class's means in pixel space);

divided by the cost of Lloyd run on the whole class (k-means++ seeding, ``--lloyd`` iterations, best of
``--restarts``). The ε-coreset property gives cost_X(C_S) ≤ (1 + ε)/(1 − ε) · cost_X(C*) for the coreset's optimum;
the ratio reported is that left side over a whole-class solver's cost, so it is an upper estimate of the factor
(Lloyd on X is itself not optimal: a ratio below 1 means the coreset's centers found a better local optimum).
Means over classes and seeds, and the worst class-seed ratio.

    python benchmarks/rep_init_bound.py --datasets mnist fashion-mnist --seeds 3 \
        --out benchmarks/results/coreset_quality/rep_init_bound.md
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from coredistill.atomic import write_text
from coredistill.data import load_dataset
from coredistill.pipeline import prepare_real
from coredistill.select.kmeans import kmeans_cost, kmeans_pp, lloyd, nearest_distinct
from coredistill.select.representative import coreset_centers
from coredistill.table import format_table


def whole_class_centers(x: np.ndarray, k: int, iters: int, restarts: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(10_000 + seed)
    return min((lloyd(x, x[kmeans_pp(x, k, rng)], iters) for _ in range(restarts)), key=lambda c: kmeans_cost(x, c))


def class_rows(name: str, c: int, x: np.ndarray, ks: list[int], ms: list[int], seeds: int, iters: int,
               restarts: int) -> list[dict]:
    rows = []
    for k in ks:
        for seed in range(seeds):
            lloyd_centers = whole_class_centers(x, k, iters, restarts, seed)
            best = kmeans_cost(x, lloyd_centers)
            lloyd_images = kmeans_cost(x, x[nearest_distinct(x, lloyd_centers)]) / best
            for m in ms:
                rng = np.random.default_rng(seed)
                centers, _, _ = coreset_centers(x, k, m, rng, iters)
                images = x[nearest_distinct(x, centers)]
                sample, w = x[rng.integers(0, len(x), m)], np.full(m, len(x) / m)
                uc = lloyd(sample, sample[kmeans_pp(sample, k, rng, weights=w)], iters, weights=w)
                rows.append({"dataset": name, "class": c, "k": k, "seed": seed, "m": m,
                             "coreset_centers": kmeans_cost(x, centers) / best,
                             "coreset_images": kmeans_cost(x, images) / best,
                             "uniform_centers": kmeans_cost(x, uc) / best, "lloyd_images": lloyd_images})
    return rows


def table(rows: list[dict]) -> str:
    keys = sorted({(r["dataset"], r["k"], r["m"]) for r in rows}, key=lambda t: (t[0], t[1], t[2]))
    body = []
    for d, k, m in keys:
        sel = [r for r in rows if (r["dataset"], r["k"], r["m"]) == (d, k, m)]
        cell = lambda f: f"{np.mean([r[f] for r in sel]):.3f} ({max(r[f] for r in sel):.3f})"  # noqa: E731
        body.append([d, k, m, cell("coreset_centers"), cell("coreset_images"), cell("uniform_centers"),
                     cell("lloyd_images"), len(sel)])
    return format_table(["dataset", "k", "m / class", "coreset centers: mean (worst)", "coreset images: mean (worst)",
                         "uniform centers: mean (worst)", "Lloyd's images: mean (worst)", "class x seed"], body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    ap.add_argument("--k", nargs="+", type=int, default=[1, 10])
    ap.add_argument("--m", nargs="+", type=int, default=[30, 100, 200, 400, 1000])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--lloyd", type=int, default=20)
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--classes", nargs="+", type=int, default=list(range(10)))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=1, help="numpy BLAS threads (CPU seconds count all of them)")
    a = ap.parse_args()
    threadpool_limits(limits=a.threads)
    t0, rows = time.process_time(), []
    for name in a.datasets:
        ds = load_dataset(name)
        train_x, _ = prepare_real(ds, None)
        x_all, y = train_x.reshape(len(train_x), -1).numpy().astype(np.float64), ds.y_train.numpy()
        for c in a.classes:
            rows += class_rows(name, c, x_all[y == c], a.k, a.m, a.seeds, a.lloyd, a.restarts)
            print(f"{name} class {c} done ({time.process_time() - t0:.0f} CPU s)", flush=True)
    text = (f"k-means cost on the whole class / whole-class Lloyd (k-means++, {a.lloyd} iterations, best of "
            f"{a.restarts}); train split, normalized pixels; {a.seeds} seeds, classes {a.classes}; "
            f"{time.process_time() - t0:.0f} CPU s\n\n{table(rows)}\n")
    print(text)
    if a.out:
        write_text(a.out, text)
        write_text(a.out.with_suffix(".json"), json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
