"""k-means sensitivity selection on memory-mapped data sets of growing size: time and peak memory.

Each size: a synthetic uint8 data set written to disk chunk by chunk (``coredistill.data.synthetic``), then a
fresh process loads it memory-mapped and runs pixel features + k-means sensitivity (k-means++ bicriteria,
mini-batch refinement, the exact bound over every row). "RSS after load" is the process with torch and the
labels loaded; the peak RSS counts the pages of memory-mapped files it touched (the images, and the features,
which are written to a memory-mapped cache file as they are computed); "anonymous" is the heap alone (sampled
every 10 ms): what the process needs beyond what the kernel can drop and re-read.

    python benchmarks/memmap_selection.py --sizes 100000 1000000 5000000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from coredistill.data.synthetic import write_npy_dataset
from coredistill.table import format_table

CHILD = r"""
import json, sys, threading, time
from coredistill import distill, load_dataset
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
peak_anon = [0.0]
def sample():  # the kernel keeps no high-water mark of anonymous memory: sample it
    while True:
        peak_anon[0] = max(peak_anon[0], status("RssAnon"))
        time.sleep(0.01)
ds = load_dataset("npy", path=sys.argv[1])
base, base_anon = status("VmRSS"), status("RssAnon")
threading.Thread(target=sample, daemon=True).start()
res = distill(ds, ipc=10, init="kmeans-sensitivity", init_options={"minibatch_iters": 20}, preset="tiny",
              evaluate_with=(), progress=False)
t = res.manifest["timings"]
print(json.dumps({"base_mb": base, "peak_mb": status("VmHWM"),  # ru_maxrss would keep the parent's pre-exec RSS
                  "anon_growth_mb": peak_anon[0] - base_anon,
                  "features_s": t["features_s"], "select_s": t["select_s"]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_npy_dataset(Path(tmp) / "data", n)
            env = {**os.environ, "COREDISTILL_DATA": str(Path(tmp) / "cache"), "OMP_NUM_THREADS": str(args.threads)}
            out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], env=env, capture_output=True, text=True)
            if out.returncode:
                sys.exit(out.stderr[-3000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append([f"{n:,}", f"{n * 64 / 2**20:.0f}", f"{r['features_s']:.1f}", f"{r['select_s']:.1f}",
                     f"{r['base_mb']:.0f}", f"{r['peak_mb']:.0f}", f"{r['peak_mb'] - r['base_mb']:.0f}",
                     f"{r['anon_growth_mb']:.0f}", f"{n * 64 * 4 / 2**20:.0f}"])
        print(rows[-1], flush=True)
    print(f"memory-mapped 1x8x8 uint8 images, 10 classes, ipc 10, pixel features, {args.threads} thread(s)")
    print(format_table(["images", "file MB", "features s", "selection s", "RSS after load MB", "peak MB",
                        "peak − load MB", "anonymous peak − load MB", "features MB"], rows))


if __name__ == "__main__":
    main()
