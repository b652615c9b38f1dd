"""The guarantee, measured: weighted coresets by sensitivity sampling vs uniform sampling of the same size.

Part 1 (k-means, DESIGN §1a): per class of real MNIST / Fashion-MNIST (normalized pixels), i.i.d. samples of m
points with weights 1/(m q); for >= 200 query center sets Q (k random data points, k-means++ seeds, Lloyd
solutions) the relative error |cost_w(C, Q) - cost(X, Q)| / cost(X, Q). Reported: the worst query per sample
(ε of that coreset; mean over seeds and classes, and its maximum) and the mean over queries.

Part 2 (kernel ridge regression, DESIGN §1b): a pool of train points in kernel random-feature space; per class
i.i.d. samples ∝ leverage + 1/n (weights 1/(m q)) vs uniform (weights n/m); weighted KRR with the full problem's
λ; held-out one-hot MSE and accuracy on test points, next to the fit on the whole pool.

    python benchmarks/coreset_quality.py --datasets mnist fashion-mnist --seeds 10
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from coredistill.data import load_dataset
from coredistill.features import create_features
from coredistill.pipeline import prepare_real
from coredistill.select import kmeans_sensitivity, ridge_leverage, sample_proportional
from coredistill.select.kmeans import assign, kmeans_pp, lloyd
from coredistill.table import format_table


def query_sets(x: np.ndarray, k: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    third = count // 3
    qs = [x[rng.choice(len(x), k, replace=False)] for _ in range(third)]  # random data points
    qs += [x[kmeans_pp(x, k, rng)] for _ in range(third)]  # k-means++ seeds
    qs += [lloyd(x, x[kmeans_pp(x, k, rng)], 10) for _ in range(count - 2 * third)]  # Lloyd solutions
    return qs


def kmeans_part(name: str, x_all: np.ndarray, y: np.ndarray, ms: list[int], seeds: int, k: int, queries: int,
                classes: list[int]) -> list[dict]:
    rows = []
    for c in classes:
        x = x_all[y == c].astype(np.float64)
        rng = np.random.default_rng(1000 + c)
        qs = query_sets(x, k, queries, rng)
        d2_full = np.stack([assign(x, q)[1] for q in qs])  # (queries, n): cost of each point under each Q
        cost = d2_full.sum(1)
        for seed in range(seeds):
            srng = np.random.default_rng(seed)
            sens = kmeans_sensitivity(x, k, srng)
            for m in ms:
                for sampler in ("sensitivity", "uniform"):
                    if sampler == "sensitivity":
                        idx, w = sample_proportional(sens, m, srng, "iid")
                    else:
                        idx, w = srng.integers(0, len(x), m), np.full(m, len(x) / m)
                    err = np.abs(d2_full[:, idx] @ w - cost) / cost
                    rows.append({"dataset": name, "class": c, "seed": seed, "m": m, "sampler": sampler,
                                 "max_err": float(err.max()), "mean_err": float(err.mean())})
        print(f"  {name} class {c}: n={len(x)}, {len(qs)} queries done", flush=True)
    return rows


def krr_fit(phi: np.ndarray, targets: np.ndarray, weights: np.ndarray, lam: float) -> np.ndarray:
    a = (phi * weights[:, None]).T @ phi + lam * np.eye(phi.shape[1])
    return np.linalg.solve(a, (phi * weights[:, None]).T @ targets)


def krr_part(name: str, ds, ms: list[int], seeds: int, pool: int, n_test: int, feature_options: dict) -> list[dict]:
    rng = np.random.default_rng(0)
    tr = rng.choice(len(ds.y_train), pool, replace=False)
    te = rng.choice(len(ds.y_test), n_test, replace=False)
    train_x, test_x = prepare_real(ds, None)
    space = create_features("kernel-rf", **feature_options)
    phi = space.compute(torch.cat([train_x[tr], test_x[te]]), seed=0, progress=False).astype(np.float64)
    phi_tr, phi_te = phi[:pool], phi[pool:]
    y_tr, y_te = ds.y_train.numpy()[tr], ds.y_test.numpy()[te]
    onehot = np.eye(ds.num_classes)[y_tr]
    lam = 1e-3 * np.trace(phi_tr.T @ phi_tr)  # the full problem's ridge (scales with n, like the loss)

    def score(w_: np.ndarray) -> tuple[float, float]:
        pred = phi_te @ w_
        return float(((pred - np.eye(ds.num_classes)[y_te]) ** 2).sum(1).mean()), float((pred.argmax(1) == y_te).mean())

    full_mse, full_acc = score(krr_fit(phi_tr, onehot, np.ones(pool), lam))
    tau = ridge_leverage(phi_tr, reg=0.01) + 1.0 / pool
    rows = [{"dataset": name, "m": pool, "sampler": "full pool", "seed": 0, "mse": full_mse, "acc": full_acc}]
    for seed in range(seeds):
        srng = np.random.default_rng(seed)
        for m in ms:
            per = m // ds.num_classes
            for sampler in ("leverage", "uniform"):
                idx, w = [], []
                for c in range(ds.num_classes):
                    members = np.flatnonzero(y_tr == c)
                    if sampler == "leverage":
                        i, wi = sample_proportional(tau[members], per, srng, "iid")
                    else:
                        i, wi = srng.integers(0, len(members), per), np.full(per, len(members) / per)
                    idx.append(members[i])
                    w.append(wi)
                idx, w = np.concatenate(idx), np.concatenate(w)
                mse, acc = score(krr_fit(phi_tr[idx], onehot[idx], w, lam))
                rows.append({"dataset": name, "m": m, "sampler": sampler, "seed": seed, "mse": mse, "acc": acc})
    return rows


def summarize(kmeans_rows: list[dict], krr_rows: list[dict]) -> tuple[str, str]:
    out1 = []
    keys = sorted({(r["dataset"], r["m"]) for r in kmeans_rows})
    for ds, m in keys:
        cells = [ds, m]
        for sampler in ("sensitivity", "uniform"):
            sel = [r for r in kmeans_rows if r["dataset"] == ds and r["m"] == m and r["sampler"] == sampler]
            mx = np.array([r["max_err"] for r in sel])
            cells += [f"{mx.mean():.4f}", f"{mx.max():.4f}", f"{np.mean([r['mean_err'] for r in sel]):.4f}"]
        out1.append(cells)
    t1 = format_table(["dataset", "m / class", "sens: max err (mean)", "sens: max err (worst)", "sens: mean err",
                       "unif: max err (mean)", "unif: max err (worst)", "unif: mean err"], out1)
    out2 = []
    for ds in sorted({r["dataset"] for r in krr_rows}):
        full = next(r for r in krr_rows if r["dataset"] == ds and r["sampler"] == "full pool")
        out2.append([ds, f"{full['m']} (full pool)", f"{full['mse']:.4f}", f"{100 * full['acc']:.2f}", "", ""])
        for m in sorted({r["m"] for r in krr_rows if r["dataset"] == ds and r["sampler"] != "full pool"}):
            cells: list = [ds, m]
            for sampler in ("leverage", "uniform"):
                sel = [r for r in krr_rows if r["dataset"] == ds and r["m"] == m and r["sampler"] == sampler]
                mse, acc = np.array([r["mse"] for r in sel]), np.array([r["acc"] for r in sel])
                cells += [f"{mse.mean():.4f} ± {mse.std():.4f}", f"{100 * acc.mean():.2f} ± {100 * acc.std():.2f}"]
            out2.append(cells)
    t2 = format_table(["dataset", "m (total)", "leverage: test MSE", "leverage: acc %", "uniform: test MSE",
                       "uniform: acc %"], out2)
    return t1, t2


def plot(kmeans_rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["dataset"] for r in kmeans_rows})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        for sampler, color in (("sensitivity", "C0"), ("uniform", "C1")):
            ms = sorted({r["m"] for r in kmeans_rows if r["dataset"] == ds})
            for stat, ls in (("max_err", "-"), ("mean_err", ":")):
                vals = [np.mean([r[stat] for r in kmeans_rows if r["dataset"] == ds and r["m"] == m
                                 and r["sampler"] == sampler]) for m in ms]
                ax.plot(ms, vals, ls, color=color, marker="o", ms=3,
                        label=f"{sampler}, {'worst query' if stat == 'max_err' else 'mean query'}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("coreset size m per class")
        ax.set_ylabel("relative k-means cost error")
        ax.set_title(ds)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["mnist", "fashion-mnist"])
    ap.add_argument("--m", type=int, nargs="+", default=[50, 100, 200, 500, 1000])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--k", type=int, default=10, help="centers of the bicriteria solution and of every query")
    ap.add_argument("--queries", type=int, default=210)
    ap.add_argument("--classes", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--krr-m", type=int, nargs="+", default=[100, 200, 500, 1000, 2000])
    ap.add_argument("--krr-pool", type=int, default=10000)
    ap.add_argument("--krr-test", type=int, default=2000)
    ap.add_argument("--out", default="benchmarks/results/coreset_quality")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    km, krr = [], []
    for name in args.datasets:
        ds = load_dataset(name)
        train_x, _ = prepare_real(ds, None)
        x = train_x.reshape(len(train_x), -1).numpy()
        km += kmeans_part(name, x, ds.y_train.numpy(), args.m, args.seeds, args.k, args.queries, args.classes)
        krr += krr_part(name, ds, args.krr_m, args.seeds, args.krr_pool, args.krr_test,
                        {"num_models": 4, "width": 32})
        print(f"{name} done at {time.perf_counter() - t0:.0f} s", flush=True)
    (out / "kmeans.json").write_text(json.dumps(km))
    (out / "krr.json").write_text(json.dumps(krr))
    t1, t2 = summarize(km, krr)
    plot(km, out / "kmeans_error.png")
    text = (f"k-means coreset error (k={args.k}, {args.queries} queries, {args.seeds} seeds, classes {args.classes})\n"
            f"{t1}\n\nKRR on kernel-rf features (pool {args.krr_pool}, test {args.krr_test}, {args.seeds} seeds)\n{t2}\n")
    (out / "tables.md").write_text(text)
    print(text)
    print(f"plot: {out / 'kmeans_error.png'}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
