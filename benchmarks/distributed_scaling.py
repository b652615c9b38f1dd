"""Wall time and peak memory of a distillation on 1 vs N processes (torchrun; gloo on CPU, NCCL on GPUs).

Each configuration is a fresh ``torchrun ... -m coredistill distill`` run of the same distillation (the images
are the same bit for bit at equal threads per process, see coredistill.distributed); the distillation seconds
are the artifact's own loop time, the peak is the largest resident size of any one process (GNU time).

    python benchmarks/distributed_scaling.py --dataset mnist --ipc 10 --method dm --iterations 20
    python benchmarks/distributed_scaling.py --method rfad --init kernel-leverage --iterations 5  # selection phase

Features are computed afresh in every run (a private feature cache per run).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coredistill.data.paths import data_dir
from coredistill.table import format_table


def run(nproc: int, threads: int, args, folder: Path) -> dict:
    out = folder / f"n{nproc}t{threads}"
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    cmd = ["/usr/bin/time", "-v", sys.executable, *launcher, "-m", "coredistill", "distill", "--dataset",
           args.dataset, "--ipc", str(args.ipc), "--method", args.method, "--iterations", str(args.iterations),
           "--preset", args.preset, "--init", args.init, "--no-eval", "--quiet", "--out", str(out)]
    # a data folder of links to the user's data sets, without their feature cache: features are computed afresh
    fresh = folder / f"n{nproc}t{threads}.data"
    fresh.mkdir()
    for entry in data_dir().iterdir():
        if entry.name != "features":
            (fresh / entry.name).symlink_to(entry)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "COREDISTILL_DATA": str(fresh)}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode:
        sys.exit(res.stderr[-3000:])
    # GNU time reports the launcher's own peak for torchrun (children are waited by it, so it is the max of them)
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    manifest = json.loads((out / "manifest.json").read_text())
    timings = manifest["timings"]
    return {"processes": nproc, "threads": threads, "wall_s": wall, "distill_s": manifest["log"]["seconds"],
            "select_s": timings["features_s"] + timings["select_s"], "features_s": timings["features_s"],
            "peak_mb": peak_kb / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--method", default="dm")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--init", default="random", help="initializer (its features are part of the selection phase)")
    ap.add_argument("--configs", nargs="+", default=["1x1", "1x2", "2x1"],
                    help="PROCESSESxTHREADS per run (threads per process)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        base = None
        for config in args.configs:
            nproc, threads = (int(v) for v in config.split("x"))
            r = run(nproc, threads, args, Path(folder))
            base = base or r
            rows.append([r["processes"], r["threads"], f"{r['features_s']:.1f}", f"{r['select_s']:.1f}",
                         f"{base['select_s'] / r['select_s']:.2f}x", f"{r['distill_s']:.1f}",
                         f"{base['distill_s'] / r['distill_s']:.2f}x", f"{r['wall_s']:.1f}", f"{r['peak_mb']:.0f}"])
            print(rows[-1], flush=True)
    print(f"{args.method} on {args.dataset}, IPC {args.ipc}, init {args.init}, {args.iterations} iterations, "
          f"preset {args.preset}")
    print(format_table(["processes", "threads each", "features s", "selection s (with features)", "speed-up",
                        "distill s", "speed-up", "wall s (with start-up)", "peak MB (largest process)"], rows))


if __name__ == "__main__":
    main()
