"""Peak memory and time per iteration of a short distillation run, per method and IPC, on a real data set.

Each configuration runs in a fresh process: the peak RSS (CPU) or allocator peak (CUDA) is its own. "data RSS"
is the resident size once the data set is loaded and normalized, before any selection or distillation, so the
difference is what the method itself holds. Seconds per iteration exclude the one-off setup.

    python benchmarks/method_memory.py --method rfad --ipc 10 50 --iterations 5
    python benchmarks/method_memory.py --method rfad --ipc 10 50 --method-opt 'kernel_options={"num_models": 8, "width": 256}'
"""
from __future__ import annotations

import argparse
import ast
import json
import resource
import subprocess
import sys
import time

import torch

from coredistill.table import format_table


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one(dataset: str, method: str, ipc: int, iterations: int, options: dict, preset: str, device: str) -> dict:
    from coredistill import distill, load_dataset

    ds = load_dataset(dataset)
    ds.train_float(), ds.test_float()
    data_rss = _rss_mb()
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = {}
    for n in (1, 1 + iterations):  # the difference of two runs removes setup and the first iteration
        t0 = time.perf_counter()
        res = distill(ds, ipc=ipc, method=method, method_options=options, iterations=n, preset=preset,
                      evaluate_with=(), device=device, progress=False)
        times[n] = res.manifest["log"]["seconds"]
    peak = (torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"ipc": ipc, "peak_mb": peak, "data_rss_mb": data_rss,
            "s_per_iteration": (times[1 + iterations] - times[1]) / iterations}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--method", default="rfad")
    ap.add_argument("--ipc", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--method-opt", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    options = {k: ast.literal_eval(v) for k, _, v in (o.partition("=") for o in args.method_opt)}
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child is not None:
        print(json.dumps(one(args.dataset, args.method, args.child, args.iterations, options, args.preset,
                             args.device)))
        return
    rows = []
    for ipc in args.ipc:
        cmd = [sys.executable, __file__, "--child", str(ipc), *sys.argv[1:]]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append([ipc, f"{r['data_rss_mb']:.0f}", f"{r['peak_mb']:.0f}", f"{r['peak_mb'] - r['data_rss_mb']:.0f}",
                     f"{r['s_per_iteration']:.2f}"])
        print(rows[-1], flush=True)
    print(f"{args.method} on {args.dataset}, preset {args.preset}, options {options or 'preset defaults'}, "
          f"device {args.device}, {torch.get_num_threads()} threads")
    print(format_table(["ipc", "data RSS MB", "peak MB", "peak − data MB", "s / iteration"], rows))


if __name__ == "__main__":
    main()
