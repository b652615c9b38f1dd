"""Peak memory and time of one MTT iteration: unrolled vs checkpointed inner loop, at several IPC.

Each configuration runs in a fresh subprocess (peak RSS on CPU is per process; on CUDA the allocator's peak is
read instead). The expert buffer is a synthetic one of the right shape (memory does not depend on its values).

    python benchmarks/mtt_memory.py --ipc 10 50 --syn-steps 20 --width 32
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from coredistill.table import format_table


def one(ipc: int, memory: str, syn_steps: int, width: int, folder: str, device: str) -> dict:
    import numpy as np

    from coredistill.methods import Context, RealData, create_method
    from coredistill.atomic import write_with
    from coredistill.methods.experts import FORMAT, MANIFEST
    from coredistill.models import create_model
    from coredistill.sampling import create_sampler

    dev = torch.device(device)
    net = create_model("ConvNet", 1, 10, (28, 28), seed=0, width=width)
    n = sum(p.numel() for p in net.parameters())
    buf = Path(folder)
    if not (buf / MANIFEST).exists():
        write_with(buf / "expert_0000.pt", lambda f: torch.save(torch.randn(4, n) * 0.05, f))
        (buf / MANIFEST).write_text(json.dumps({
            "format": FORMAT, "config": {"model": "ConvNet", "model_options": {"width": width}, "epochs": 3,
                                         "dataset": {}}, "num_classes": 10, "image_shape": [1, 28, 28],
            "params": [[k, list(p.shape)] for k, p in net.named_parameters()], "experts": ["expert_0000.pt"]}))
    labels = np.repeat(np.arange(10), 2)
    s = create_sampler("uniform")
    s.setup(labels, 10)
    ctx = Context(RealData(torch.zeros(20, 1, 28, 28), torch.as_tensor(labels), None), 10, ipc, s,
                  np.random.default_rng(0), torch.Generator().manual_seed(0), dev, "ConvNet", {"width": width})
    m = create_method("mtt", experts=str(buf), syn_steps=syn_steps, expert_epochs=1, max_start_epoch=1,
                      memory=memory)
    syn = torch.randn(10 * ipc, 1, 28, 28, device=dev, requires_grad=True)
    y = torch.arange(10, device=dev).repeat_interleave(ipc)
    m.setup(syn, y, ctx)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    loss = next(m.losses(syn, y, ctx))
    loss.backward()
    seconds = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"ipc": ipc, "memory": memory, "seconds": seconds, "peak_mb": peak, "loss": float(loss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ipc", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--syn-steps", type=int, default=20)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--child", nargs=3, metavar=("IPC", "MEMORY", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        ipc, memory, folder = args.child
        print(json.dumps(one(int(ipc), memory, args.syn_steps, args.width, folder, args.device)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for ipc in args.ipc:
            for memory in ("unrolled", "checkpoint"):
                out = subprocess.run([sys.executable, __file__, "--child", str(ipc), memory, folder, "--syn-steps",
                                      str(args.syn_steps), "--width", str(args.width), "--device", args.device],
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append([ipc, memory, f"{r['peak_mb']:.0f}", f"{r['seconds']:.1f}", f"{r['loss']:.6f}"])
                print(rows[-1], flush=True)
    print(f"one MTT iteration, ConvNet-3 width {args.width}, MNIST-sized, {args.syn_steps} unrolled steps, "
          f"device {args.device}, {torch.get_num_threads()} threads (peak: process max RSS on CPU, allocator on CUDA)")
    print(format_table(["ipc", "inner loop", "peak MB", "seconds", "loss (equal across modes)"], rows))


if __name__ == "__main__":
    main()
