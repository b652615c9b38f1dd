"""Throughput of the evaluation protocol and of one distillation iteration, side by side in one run.

Evaluation (3 eval nets, ConvNet-3, MNIST-sized inputs, SGD batch 256), for IPC 1 / 10 / 50, width 32 / 128 and
DSA off / on, three ways on the same images:

* ``papers' loop`` — a plain reimplementation of the field's ``evaluate_synset``: a ``DataLoader`` over a
  ``TensorDataset`` (shuffled, batch 256), per batch: DSA, forward, loss, backward, step, and the running loss and
  accuracy read back (``loss.item()``, numpy argmax), one net after another; ``nn.AvgPool2d``; test batches of 256;
* ``ours sequential`` — :func:`coredistill.evaluate.train_net` and :func:`~coredistill.evaluate.accuracy` (the
  CPU pooling, cache-sized chunks);
* ``ours ensembled`` — :func:`~coredistill.evaluate.train_stacked` (the 3 nets as one stacked model);
* ``ours compiled`` — :func:`~coredistill.evaluate.train_net` with ``compiled=True`` (one compilation shared by the
  3 nets; its one-off cost is paid in the warm-up round and reported apart, per configuration).

Training and the test pass are timed apart (images/s; GFLOP/s from ``torch.utils.flop_counter`` on the reference
model: the useful work, the same for all three). The "protocol" column projects the cpu preset's evaluation
(300 epochs, 10,000 test images, 3 nets) from the measured rates. The fp32 sgemm ceiling is measured in the same
run. Then one distillation iteration of DM, DC, DSA, MTT and RFAD (cpu preset options, IPC 10, MNIST-sized),
before (``nn.AvgPool2d``) and after (the CPU pooling), interleaved.

    python benchmarks/throughput.py --threads 1 --out benchmarks/results/throughput_cpu_1thread.md
    python benchmarks/throughput.py --quick          # a smaller grid, for a smoke check
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from coredistill.augment import DSA, default_strategy
from coredistill.evaluate import accuracy, stack_pays, train_net, train_stacked
from coredistill.models import create_model
from coredistill.models.layers import POOLS
from coredistill.seeding import torch_generator
from coredistill.table import format_table

NETS, CLASSES, SHAPE = 3, 10, (1, 28, 28)
PROTOCOL_EPOCHS, PROTOCOL_TEST = 300, 10_000
HEADERS = ["ipc", "width", "dsa", "variant", "train img/s", "train GFLOP/s", "test img/s", "test GFLOP/s",
           "cpu-preset eval s (projected)", "speed-up"]


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e9


@contextlib.contextmanager
def field_pooling():
    """Build nets with the field's ``nn.AvgPool2d`` (the code before the CPU pooling)."""
    entry = POOLS.get("avg")
    POOLS._entries["avg"] = lambda: nn.AvgPool2d(2, 2)  # a benchmark-only swap; registries have no replace()
    try:
        yield
    finally:
        POOLS._entries["avg"] = entry


def make_nets(width: int, field: bool = False) -> list[nn.Module]:
    with field_pooling() if field else contextlib.nullcontext():
        return [create_model("ConvNet", SHAPE[0], CLASSES, SHAPE[1:], seed=s, width=width) for s in range(NETS)]


def step_flops(width: int, batch: int) -> int:
    """fwd + bwd FLOPs of one training step on ``batch`` images (the reference model; input needs no grad)."""
    net = make_nets(width, field=True)[0]
    x, y = torch.zeros(batch, *SHAPE), torch.zeros(batch, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    return counter.get_total_flops()


def forward_flops(width: int, batch: int) -> int:
    net = make_nets(width, field=True)[0]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(batch, *SHAPE))
    return counter.get_total_flops()


def papers_train(nets, x, y, epochs: int, augment: DSA | None, seed: int = 0) -> None:
    """The field's loop: DataLoader, per-batch DSA, step, running loss/accuracy read back; one net at a time."""
    for i, net in enumerate(nets):
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        loader = DataLoader(TensorDataset(x, y), batch_size=256, shuffle=True,
                            generator=torch.Generator().manual_seed(seed + i))
        g = torch.Generator().manual_seed(seed + i)
        net.train()
        for epoch in range(epochs):
            if epoch == epochs // 2 and epoch > 0:
                for group in opt.param_groups:
                    group["lr"] = 0.001
            loss_avg, acc_avg, num = 0.0, 0, 0
            for img, lab in loader:
                img, lab = img.float(), lab.long()
                if augment is not None:
                    img = augment(img, generator=g, siamese=False)
                out = net(img)
                loss = F.cross_entropy(out, lab)
                loss_avg += loss.item() * len(lab)
                acc_avg += int(np.sum(np.argmax(out.detach().numpy(), axis=-1) == lab.numpy()))
                num += len(lab)
                opt.zero_grad()
                loss.backward()
                opt.step()


@torch.no_grad()
def papers_test(nets, tx, ty) -> None:
    for net in nets:
        net.eval()
        for img, lab in DataLoader(TensorDataset(tx, ty), batch_size=256, shuffle=False):
            int(np.sum(np.argmax(net(img).numpy(), axis=-1) == lab.numpy()))


def ours_sequential_train(nets, x, y, epochs, augment):
    for s, net in enumerate(nets):
        train_net(net, x, y, epochs=epochs, lr=0.01, augment=augment, generator=torch_generator(s))


def ours_ensembled_train(nets, x, y, epochs, augment):
    train_stacked(nets, x, y, epochs=epochs, lr=0.01, augment=augment,
                  generators=[torch_generator(s) for s in range(len(nets))])


def ours_compiled_train(nets, x, y, epochs, augment):
    for s, net in enumerate(nets):
        train_net(net, x, y, epochs=epochs, lr=0.01, augment=augment, generator=torch_generator(s), compiled=True)


def ours_test(nets, tx, ty):
    for net in nets:
        accuracy(net, tx, ty)


VARIANTS = {  # name: (field pooling?, train, test)
    "papers' loop": (True, papers_train, papers_test),
    "ours sequential": (False, ours_sequential_train, ours_test),
    "ours ensembled": (False, ours_ensembled_train, ours_test),
    "ours compiled": (False, ours_compiled_train, ours_test),
}


def time_eval(ipc: int, width: int, dsa: bool, rounds: int, test_images: int, quick: bool):
    g = torch.Generator().manual_seed(0)
    n = CLASSES * ipc
    x, y = torch.randn(n, *SHAPE, generator=g), torch.arange(n) % CLASSES
    tx, ty = torch.randn(test_images, *SHAPE, generator=g), torch.randint(0, CLASSES, (test_images,), generator=g)
    augment = DSA(strategy=default_strategy(False)) if dsa else None
    # about 2,000 (width 32) to 500 (width 128) training images per net and timing
    epochs = min(60, max(1, int((200 if quick else 2000) * 32 / width) // n))
    train_t = {k: [] for k in VARIANTS}
    test_t = {k: [] for k in VARIANTS}
    for _ in range(rounds + 1):  # round 0 warms up (allocator, oneDNN primitives); not counted
        for name, (field, train, test) in VARIANTS.items():
            nets = make_nets(width, field)
            t0 = time.perf_counter()
            train(nets, x, y, epochs, augment)
            t1 = time.perf_counter()
            test(nets, tx, ty)
            t2 = time.perf_counter()
            train_t[name].append((t1 - t0) / epochs)  # seconds per epoch of all nets (round 0: with compilation)
            test_t[name].append((t2 - t1) / test_images)  # seconds per test image of all nets
    train_flops = sum(step_flops(width, min(256, n - s)) for s in range(0, n, 256)) * NETS  # per epoch
    test_flops = forward_flops(width, 1) * NETS  # per test image
    rows = []
    base = None
    for name in VARIANTS:
        ep, im = statistics.median(train_t[name][1:]), statistics.median(test_t[name][1:])
        protocol = PROTOCOL_EPOCHS * ep + PROTOCOL_TEST * im
        base = base or protocol
        rows.append([ipc, width, "on" if dsa else "off", name, f"{NETS * n / ep:.0f}", f"{train_flops / ep / 1e9:.1f}",
                     f"{NETS / im:.0f}", f"{test_flops / im / 1e9:.1f}", f"{protocol:.1f}", f"{base / protocol:.2f}x"])
    auto = stack_pays(make_nets(width)[0], NETS, min(n, 256), torch.device("cpu"))
    compile_s = epochs * (train_t["ours compiled"][0] - statistics.median(train_t["ours compiled"][1:]))
    return rows, auto, compile_s


def time_methods(rounds: int, names: list[str], short: int = 1, long: int = 2) -> list[list[str]]:
    """One distillation iteration per method (cpu preset options, IPC 10, a 3,000-image MNIST subset), before and
    after the CPU pooling, interleaved; seconds per iteration from the difference of two run lengths."""
    from coredistill.data import load_dataset
    from coredistill.data.dataset import ImageDataset
    from coredistill.pipeline import distill, train_experts

    # 300 MNIST train images per class (experts must learn something, or MTT's learned lr can turn negative)
    full = load_dataset("mnist")
    keep = torch.cat([torch.nonzero(full.y_train == c)[:300, 0] for c in range(CLASSES)])
    ds = ImageDataset("mnist-300-per-class", full.x_train[keep], full.y_train[keep], full.x_test[:1000],
                      full.y_test[:1000], full.class_names, mean=full.mean, std=full.std, allow_flip=False)
    folder = Path(tempfile.mkdtemp(prefix="coredistill-throughput-"))
    train_experts(ds, folder / "experts", num_experts=1, epochs=6, preset="cpu", progress=False)
    methods = {"dm": {}, "dc": {}, "dsa": {}, "mtt": {"experts": str(folder / "experts")}, "rfad": {}}
    methods = {name: methods[name] for name in names}
    rows = []
    for method, options in methods.items():
        per_it = {"nn.AvgPool2d (before)": [], "CPU pooling (now)": []}
        for _ in range(rounds):
            for label in per_it:
                times = []
                for iterations in (short, long):
                    with field_pooling() if "before" in label else contextlib.nullcontext():
                        r = distill(ds, ipc=10, method=method, preset="cpu", iterations=iterations,
                                    method_options=options, evaluate_with=(), progress=False)
                    times.append(r.manifest["timings"]["distill_s"])
                per_it[label].append((times[1] - times[0]) / (long - short))
        before, now = (statistics.median(v) for v in per_it.values())
        rows.append([method, f"{before:.3f}", f"{now:.3f}", f"{before / now:.2f}x"])
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ipc", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--width", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--test-images", type=int, default=1000)
    ap.add_argument("--skip-methods", action="store_true")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--methods", nargs="+", default=["dm", "dc", "dsa", "mtt", "rfad"])
    ap.add_argument("--iterations", type=int, nargs=2, default=[1, 2], metavar=("SHORT", "LONG"),
                    help="seconds per iteration = (time of LONG - time of SHORT iterations) / (LONG - SHORT)")
    ap.add_argument("--quick", action="store_true", help="IPC 1 and 10, width 32, DSA off, 1 round")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.quick:
        a.ipc, a.width, a.rounds, a.test_images = [1, 10], [32], 1, 500
    torch.set_num_threads(a.threads)
    lines = [f"{platform.machine()} CPU ({torch.get_num_threads()} thread(s)), torch {torch.__version__}; command: "
             f"python benchmarks/throughput.py {' '.join(sys.argv[1:])}".rstrip()]
    ceiling = sgemm_gflops()
    lines.append(f"fp32 sgemm ceiling (2048x2048, this run): {ceiling:.1f} GFLOP/s")
    if not a.skip_eval:
        lines += ["", f"Evaluation, {NETS} nets, median of {a.rounds} round(s) after a warm-up round"]

    def emit(block: list[str]) -> None:  # written as it goes: a stopped run keeps what it measured
        lines.extend(block)
        text = "\n".join(lines) + "\n"
        print("\n".join(block), flush=True)
        if a.out:
            a.out.write_text(text)

    rows, autos, compiles = [], [], []
    for width in [] if a.skip_eval else a.width:
        for ipc in a.ipc:
            for dsa in ([False] if a.quick else [False, True]):
                r, auto, compile_s = time_eval(ipc, width, dsa, a.rounds, a.test_images, a.quick)
                compiles.append(f"IPC {ipc}, width {width}, DSA {'on' if dsa else 'off'}: {compile_s:.1f} s")
                rows += r
                autos.append(f"IPC {ipc}, width {width}: {'ensembled' if auto else 'sequential'}")
                if len(rows) == len(r):
                    emit([format_table(HEADERS, r)])
                else:
                    emit(format_table(HEADERS, r).splitlines()[2:])
    if rows:
        emit(["", "ensemble='auto' picks: " + "; ".join(dict.fromkeys(autos)),
              "one-off compilation of 'ours compiled' (warm-up round minus a timed one; inductor's on-disk cache "
              "makes a later process cheaper): " + "; ".join(compiles)])
    if not a.skip_methods:
        m = time_methods(max(1, a.rounds), a.methods, *a.iterations)
        emit(["", "One distillation iteration (cpu preset options, IPC 10, 3,000 MNIST images), seconds",
              format_table(["method", "nn.AvgPool2d (before)", "CPU pooling (now)", "speed-up"], m)])


if __name__ == "__main__":
    main()
