"""Seconds per distillation iteration: coredistill's DM / DC / DSA vs a per-class transcription of the papers'
loop, measured side by side in one run, with the loss values compared (must agree to 1e-5).

The reference loop is what the original scripts do for DM: one forward per class for the real batch and one for
the synthetic images. coredistill's DM is timed three ways: its CPU default (per class, eager), all classes in
one forward (``batched=True``), and the real side compiled by ``torch.compile`` (``compiled=True``; its one-off
compilation shows in the "first round" column). For DC/DSA both are per class by nature (per-class gradients).

    python benchmarks/step_speed.py                                 # MNIST- and CIFAR-sized, IPC 1 and 10
    python benchmarks/step_speed.py --width 32 --batch-real 64 --repeats 3
"""
from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from coredistill.methods import Context, RealData, create_method
from coredistill.models import create_model
from coredistill.sampling import create_sampler
from coredistill.table import format_table
from throughput import sgemm_gflops  # benchmarks/ is the script's folder


def reference_dm_loss(net, real_batches, syn, ipc):
    """The papers' per-class DM loop, transcribed."""
    loss = syn.new_zeros(())
    for c, xr in enumerate(real_batches):
        with torch.no_grad():
            er = net.embed(xr).mean(0)
        es = net.embed(syn[c * ipc:(c + 1) * ipc]).mean(0)
        loss = loss + ((er - es) ** 2).sum()
    return loss


DM_VARIANTS = {"dm (default: per class on CPU)": {}, "dm batched=True": {"batched": True},
               "dm compiled=True": {"compiled": True}}


def time_dm(channels, size, ipc, width, batch_real, repeats, options, classes=10):
    """Median seconds per iteration of coredistill's DM with ``options`` and of the reference loop on the same
    real batches, interleaved round by round; the first round (warm-up, compilation) is timed apart."""
    g = torch.Generator().manual_seed(0)
    n_per = batch_real
    real = torch.randn(classes * n_per, channels, size, size, generator=g)
    labels = np.repeat(np.arange(classes), n_per)
    syn = torch.randn(classes * ipc, channels, size, size, generator=g, requires_grad=True)
    net = create_model("ConvNet", channels, classes, size, seed=0, width=width)
    for p in net.parameters():
        p.requires_grad_(False)
    sampler = create_sampler("uniform")
    sampler.setup(labels, classes)
    ctx = Context(RealData(real, torch.as_tensor(labels), None), classes, ipc, sampler, np.random.default_rng(0),
                  torch.Generator().manual_seed(0), torch.device("cpu"))
    ctx.new_net = lambda: net
    method = create_method("dm", batch_real=batch_real, **options)
    ours_t, ref_t, diffs, first = [], [], [], 0.0
    for r in range(repeats + 1):
        state = ctx.rng.bit_generator.state
        t0 = time.perf_counter()
        loss = next(method.losses(syn, None, ctx))
        loss.backward()
        t_ours = time.perf_counter() - t0
        ctx.rng.bit_generator.state = state  # the reference sees exactly the same real batches
        batches = [ctx.real_batch(c, batch_real)[0] for c in range(classes)]
        t0 = time.perf_counter()
        with FlopCounterMode(display=False) if not r else contextlib.nullcontext() as counter:
            ref = reference_dm_loss(net, batches, syn, ipc)
            ref.backward()
        t_ref = time.perf_counter() - t0
        if not r:
            flops = counter.get_total_flops()
        if r:
            ours_t.append(t_ours)
            ref_t.append(t_ref)
        else:
            first = t_ours
        diffs.append(abs(loss.item() - ref.item()) / max(abs(ref.item()), 1e-12))
    return float(np.median(ours_t)), float(np.median(ref_t)), max(diffs), first, flops


def time_dc(method_name, channels, size, ipc, width, batch_real, repeats, classes=10):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(classes * batch_real, channels, size, size, generator=g)
    labels = np.repeat(np.arange(classes), batch_real)
    syn = torch.randn(classes * ipc, channels, size, size, generator=g, requires_grad=True)
    sampler = create_sampler("uniform")
    sampler.setup(labels, classes)
    from coredistill.augment import DSA

    ctx = Context(RealData(real, torch.as_tensor(labels), None), classes, ipc, sampler, np.random.default_rng(0),
                  torch.Generator().manual_seed(0), torch.device("cpu"), model_options={"width": width},
                  dsa=DSA() if method_name == "dsa" else None)
    method = create_method(method_name, batch_real=batch_real, outer_loop=1)  # one outer step = one matching step
    times = []
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        with FlopCounterMode(display=False) if not r else contextlib.nullcontext() as counter:
            for loss in method.losses(syn, torch.as_tensor(np.repeat(np.arange(classes), ipc)), ctx):
                loss.backward()
        if r:
            times.append(time.perf_counter() - t0)
        else:
            flops = counter.get_total_flops()
    return float(np.median(times)), flops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch-real", type=int, default=256)
    ap.add_argument("--ipc", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-dc", action="store_true", help="time DM only")
    args = ap.parse_args()
    ceiling = sgemm_gflops()
    rows = []
    for label, ch, size in (("MNIST-sized 1x28x28", 1, 28), ("CIFAR-sized 3x32x32", 3, 32)):
        for ipc in args.ipc:
            for name, options in DM_VARIANTS.items():
                ours, ref, diff, first, flops = time_dm(ch, size, ipc, args.width, args.batch_real, args.repeats,
                                                        options)
                rows.append([name, label, ipc, f"{ours:.3f}", f"{ref:.3f}", f"{ref / ours:.2f}x", f"{diff:.1e}",
                             f"{first:.1f}", f"{flops / ours / 1e9:.1f} ({100 * flops / ours / 1e9 / ceiling:.0f} %)"])
                print(rows[-1], flush=True)
            if args.skip_dc:
                continue
            for m in ("dc", "dsa"):
                t, flops = time_dc(m, ch, size, ipc, args.width, args.batch_real, args.repeats)
                rows.append([f"{m} (one outer step)", label, ipc, f"{t:.3f}", "", "", "", "",
                             f"{flops / t / 1e9:.1f} ({100 * flops / t / 1e9 / ceiling:.0f} %)"])
                print(rows[-1], flush=True)
    print(f"ConvNet-3 width {args.width}, real batch {args.batch_real} per class, 10 classes, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} after one warm-up round; "
          f"fp32 sgemm ceiling measured in this run: {ceiling:.1f} GFLOP/s")
    print(format_table(["method", "input", "ipc", "coredistill s/it", "per-class loop s/it", "speed-up",
                        "max rel. loss diff", "first round s", "GFLOP/s (of ceiling)"], rows))


if __name__ == "__main__":
    main()
