"""Large inference forwards in one piece vs in cache-sized chunks (``models.footprint.in_cache_chunks``).

The forwards that selection and scoring make: kernel random features (RFAD's kernel and ``kernel-leverage``'s
default space: random ConvNets without norm), random-net embeddings (``random-nets``, DM's view), and the
relative-loss sampler's proxy net scoring a pool. Each on MNIST images in the library's batch (512 for feature
spaces, 1,024 for scoring) as one call vs :func:`in_cache_chunks`, interleaved in one process; CPU seconds per
1,000 images, best of ``--rounds``, and the largest absolute difference of the outputs.

    python benchmarks/forward_chunks.py --threads 1 --out benchmarks/results/throughput/forward_chunks_cpu_1thread.txt
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from coredistill.data import load_dataset
from coredistill.models import create_model
from coredistill.models.footprint import cache_chunk, in_cache_chunks
from coredistill.table import format_table


def cases(x: torch.Tensor):
    rf = create_model("ConvNet", 1, 2, (28, 28), seed=0, width=64, norm="none").eval()  # kernel-rf / RFAD's nets
    emb = create_model("ConvNet", 1, 2, (28, 28), seed=1, width=128).eval()  # random-nets at the default width
    proxy = create_model("ConvNet", 1, 10, (28, 28), seed=2, width=32).eval()  # the cpu preset's proxy
    return [("kernel random features (width 64, no norm)", rf.embed, rf, x[:512]),
            ("random-net embedding (width 128)", emb.embed, emb, x[:512]),
            ("proxy net scoring (width 32)", proxy, proxy, x[:1024])]


def cpu_seconds(fn, x, repeats):
    t = time.process_time()
    for _ in range(repeats):
        out = fn(x)
    return (time.process_time() - t) / repeats, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = load_dataset("mnist").train_float()[:1024]
    rows = []
    with torch.inference_mode():
        for name, fn, net, batch in cases(x):
            whole, chunked = [], []
            fn(batch)  # warm-up
            for _ in range(args.rounds):  # interleaved: both see the same machine load
                t_whole, a = cpu_seconds(fn, batch, args.repeats)
                t_chunked, b = cpu_seconds(lambda v: in_cache_chunks(fn, net, v), batch, args.repeats)
                whole.append(t_whole)
                chunked.append(t_chunked)
            per = 1000 / len(batch)
            rows.append([name, len(batch), cache_chunk(net, unknown=len(batch)), f"{min(whole) * per:.2f}",
                         f"{min(chunked) * per:.2f}", f"{min(whole) / min(chunked):.2f}x",
                         f"{float((a - b).abs().max()):.1e}"])
            print(rows[-1], flush=True)
    table = format_table(["forward", "batch", "chunk", "one call, CPU s / 1k img", "chunked, CPU s / 1k img",
                          "speed-up", "max abs difference"], rows)
    text = (f"x86_64 CPU ({args.threads} thread(s)), torch {torch.__version__}; command: python "
            f"{' '.join(sys.argv)}\n\n{table}\n")
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
