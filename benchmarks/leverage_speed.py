"""Ridge leverage scores: one triangular solve per block (the library's ``ridge_leverage``) vs the earlier
``cho_solve`` form (two triangular solves, then a row-wise product), timed interleaved in one process.

Both compute τ_i = φ_iᵀ (ΦᵀΦ + λI)⁻¹ φ_i on float32 features in float64, in row blocks of 8,192; the earlier form
is written out here (it is no longer in the library) so the comparison stays reproducible. Gaussian features of
the shape of the real selection spaces (60k x 2048: MNIST / Fashion-MNIST kernel random features); the cost does
not depend on the values. CPU seconds, best of ``--rounds``, and the largest relative difference of the scores.

    python benchmarks/leverage_speed.py --threads 1 --out benchmarks/results/throughput/leverage_cpu_1thread.txt
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import threadpoolctl
from scipy import linalg

from coredistill.select import ridge_leverage

CHUNK = 8192


def cho_solve_form(phi: np.ndarray, reg: float = 0.01) -> np.ndarray:
    n, d = phi.shape
    gram = np.zeros((d, d))
    for s in range(0, n, CHUNK):
        block = phi[s:s + CHUNK].astype(np.float64)
        gram += block.T @ block
    lam = reg * float(np.trace(gram)) / n
    chol = linalg.cho_factor(gram + lam * np.eye(d), lower=True)
    tau = np.zeros(n)
    for s in range(0, n, CHUNK):
        block = phi[s:s + CHUNK].astype(np.float64)
        tau[s:s + CHUNK] = np.einsum("ij,ij->i", block, linalg.cho_solve(chol, block.T).T)
    return tau


def cpu_seconds(fn, phi):
    t = time.process_time()
    out = fn(phi)
    return time.process_time() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--shapes", nargs="+", default=["60000x2048", "300000x512"], help="N x D feature shapes")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    threadpoolctl.threadpool_limits(args.threads)
    lines = [f"numpy BLAS {args.threads} thread(s); command: python {' '.join(sys.argv)}",
             "| n | d | cho_solve form, CPU s | one triangular solve (library), CPU s | speed-up | max rel. difference |",
             "|---|---|---|---|---|---|"]
    for shape in args.shapes:
        n, d = (int(v) for v in shape.split("x"))
        phi = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
        old, new = [], []
        for _ in range(args.rounds):  # interleaved: both see the same machine load
            t_old, tau_old = cpu_seconds(cho_solve_form, phi)
            t_new, tau_new = cpu_seconds(ridge_leverage, phi)
            old.append(t_old)
            new.append(t_new)
        diff = float(np.max(np.abs(tau_new - tau_old) / tau_old))
        lines.append(f"| {n:,} | {d} | {min(old):.1f} | {min(new):.1f} | {min(old) / min(new):.2f}x | {diff:.1e} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
