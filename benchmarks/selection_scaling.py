"""Speed and memory of the selection scores as n grows (each size in a fresh subprocess for a clean peak RSS).

k-means sensitivity (k-means++ bicriteria + the bound) and ridge leverage (primal, random-feature form) on
float32 features; real Fashion-MNIST kernel random features (60k x 2048) and synthetic Gaussian mixtures.
No n x n matrix is ever formed; cost should grow linearly in n.

    python benchmarks/selection_scaling.py                       # 100k, 300k, 1M x 512 synthetic + 60k x 2048
    python benchmarks/selection_scaling.py --sizes 100000 1000000 5000000
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from coredistill.table import format_table


def make_features(n: int, d: int, seed: int = 0) -> np.ndarray:
    """A mixture of 10 Gaussians in d dims, float32, generated in chunks (no float64 n x d copy)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (10, d)).astype(np.float32)
    x = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        x[s:s + m] = centers[rng.integers(0, 10, m)] + rng.standard_normal((m, d), dtype=np.float32)
    return x


def one(kind: str, n: int, d: int, k: int) -> dict:
    from coredistill.select import kmeans_sensitivity, ridge_leverage

    if kind == "fashion-kernel-rf":
        from coredistill.data import load_dataset
        from coredistill.features import cached_features, create_features
        from coredistill.pipeline import dataset_identity, prepare_real

        ds = load_dataset("fashion-mnist")
        train_x, _ = prepare_real(ds, None)
        t0 = time.perf_counter()  # a cache hit when this ran before: the column then shows the load time
        x = cached_features(create_features("kernel-rf", num_models=4, width=32), train_x,
                            dataset_id=dataset_identity(ds, None), seed=0, progress=False)
        feat_s = time.perf_counter() - t0
    else:
        x, feat_s = make_features(n, d), 0.0
    t0 = time.perf_counter()
    s = kmeans_sensitivity(x, k, np.random.default_rng(0))
    sens_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tau = ridge_leverage(x)
    lev_s = time.perf_counter() - t0
    assert np.isfinite(s).all() and np.isfinite(tau).all()
    return {"kind": kind, "n": len(x), "d": x.shape[1], "k": k, "features_s": feat_s, "sensitivity_s": sens_s,
            "leverage_s": lev_s, "features_gb": x.nbytes / 2**30,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--no-real", action="store_true", help="skip Fashion-MNIST 60k x 2048 kernel features")
    ap.add_argument("--one", nargs=3, metavar=("KIND", "N", "D"), help=argparse.SUPPRESS)
    ap.add_argument("--out", default="benchmarks/results/selection_scaling.json")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), int(args.one[2]), args.k)))
        return
    jobs = ([] if args.no_real else [("fashion-kernel-rf", 60000, 2048)]) + \
        [("synthetic", n, args.dim) for n in args.sizes]
    rows = []
    for kind, n, d in jobs:
        res = subprocess.run([sys.executable, __file__, "--one", kind, str(n), str(d), "--k", str(args.k)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{kind} n={n} failed")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{kind} n={n} d={d}: sensitivity {r['sensitivity_s']:.1f} s, leverage {r['leverage_s']:.1f} s, "
              f"peak RSS {r['peak_rss_gb']:.2f} GB", flush=True)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
    base = next((r for r in rows if r["kind"] == "synthetic"), None)
    table = [[r["kind"], f"{r['n']:,}", r["d"], f"{r['features_s']:.1f}", f"{r['sensitivity_s']:.2f}",
              f"{r['leverage_s']:.2f}",
              f"{r['sensitivity_s'] / base['sensitivity_s'] / (r['n'] / base['n']):.2f}" if base and r["kind"] == "synthetic" else "",
              f"{r['features_gb']:.2f}", f"{r['peak_rss_gb']:.2f}"] for r in rows]
    print(format_table(["features", "n", "d", "feature extraction s", "k-means sensitivity s (k=%d)" % args.k,
                        "ridge leverage s", "sensitivity time / n (vs smallest)", "features GB", "peak RSS GB"],
                       table))


if __name__ == "__main__":
    main()
