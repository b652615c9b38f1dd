"""The `reproduce` preset's budgets, measured: seconds per distillation iteration of every method at the preset's
settings (ConvNet-3 width 128, the papers' real batches), the evaluation's cost (5 nets × 1000 epochs with DSA) and
MTT's expert training per epoch, on this machine with one thread (a grid cell's setting), and from them how many
iterations fit in the preset's per-cell budget (``REPRODUCE_BUDGET_CORE_S``) next to the paper's.

    python benchmarks/reproduce_budget.py --dataset mnist --out benchmarks/results/reproduce_budget_cpu.md

Per-iteration seconds are the difference between a run of 1 + n iterations and one of 1 (setup, selection and
first-call costs cancel). MTT's iterations are timed on a buffer of one expert trained on a slice of the train
split (the iteration's cost does not depend on the trajectory's values); its expert cost is scaled from that
slice to the whole split.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from coredistill.atomic import write_text
from coredistill.config import RunConfig
from coredistill.data import load_dataset
from coredistill.evaluate import evaluate
from coredistill.methods import METHODS
from coredistill.methods.experts import build_experts
from coredistill.pipeline import dataset_identity, prepare, run
from coredistill.presets import REPRODUCE_BUDGET_CORE_S, get_preset
from coredistill.table import format_table


def distill_seconds(dataset: str, ds, ipc: int, method: str, iterations: int, experts: str | None) -> float:
    """CPU seconds of a `reproduce` run of ``method`` for ``iterations`` iterations, without evaluation."""
    config = RunConfig.resolve(dataset, ipc, method=method, preset="reproduce", iterations=iterations,
                               method_options={"experts": experts} if experts else {})
    t0 = time.process_time()
    run(config, ds, evaluate_with=(), progress=False)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--methods", nargs="+", default=["dm", "dc", "dsa", "mtt", "rfad", "kip"])
    ap.add_argument("--ipc", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--iterations", type=int, default=2, help="timed iterations after the first")
    ap.add_argument("--eval-epochs", type=int, default=20, help="epochs timed per eval net (scaled to the preset's)")
    ap.add_argument("--out", help="also write the table (markdown) here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    preset = get_preset("reproduce")
    ds = load_dataset(args.dataset)
    rows, notes = [], []
    experts_dir = None
    if "mtt" in args.methods:
        opts = preset.method_options("mtt", 1)
        epochs = opts["max_start_epoch"] + opts["expert_epochs"]
        data = prepare(ds, None)
        n = 2560
        folder = Path(tempfile.mkdtemp()) / "experts"
        t0 = time.process_time()
        build_experts(data.train_x[:n], ds.y_train[:n], ds.num_classes, folder, dataset_id=dataset_identity(ds, None),
                      model=preset.model, model_options=preset.model_options, num_experts=1, epochs=epochs,
                      lr=preset.experts["lr"], batch_size=preset.experts["batch_size"], dsa_strategy=None,
                      progress=False)
        per_epoch = (time.process_time() - t0) / epochs * len(ds.y_train) / n
        experts_dir = str(folder)
        print(f"experts: {per_epoch:.0f} core-s per epoch", flush=True)
        notes.append(f"MTT expert training: {per_epoch:.0f} core-s per epoch of {args.dataset} (scaled from {n} "
                     f"images, without DSA); the preset's buffer ({preset.experts['epochs']} epochs) costs "
                     f"{per_epoch * preset.experts['epochs']:.0f} core-s per expert")
    for ipc in args.ipc:
        for method in args.methods:
            # MTT runs on the buffer built above (the epochs its settings need), not the one its config names
            experts = experts_dir if METHODS.get(method).needs_experts else None
            first = distill_seconds(args.dataset, ds, ipc, method, 1, experts)
            total = distill_seconds(args.dataset, ds, ipc, method, 1 + args.iterations, experts)
            per_it = (total - first) / args.iterations
            # below the timer's resolution (a cheap kernel method): every iteration the paper runs fits
            fits = int(REPRODUCE_BUDGET_CORE_S / per_it) if per_it > 0.01 else "all (< 0.01 core-s each)"
            rows.append([method, ipc, f"{per_it:.2f}", fits,
                         preset.method_options(method, ipc)["iterations"],
                         get_preset("paper").method_options(method, ipc)["iterations"]])
            print(" | ".join(map(str, rows[-1])), flush=True)  # a long run shows each row as it is measured
    for ipc in args.ipc:
        x = torch.randn(10 * ipc, ds.channels, *ds.image_size)
        y = torch.arange(10 * ipc) % 10
        t0 = time.process_time()
        evaluate(x, y, x[:100], y[:100], num_classes=10, preset=preset, nets=1, epochs=args.eval_epochs, dsa=True,
                 progress=False)
        per_net_epoch = (time.process_time() - t0) / args.eval_epochs
        notes.append(f"evaluation at ipc {ipc}: {per_net_epoch:.3f} core-s per net-epoch with DSA: "
                     f"{per_net_epoch * preset.eval_nets * preset.eval_epochs_dsa:.0f} core-s for the protocol's "
                     f"{preset.eval_nets} nets x {preset.eval_epochs_dsa} epochs (plus testing)")
    table = format_table(["method", "ipc", "core-s / iteration", f"iterations in {REPRODUCE_BUDGET_CORE_S} core-s",
                          "reproduce preset", "paper"], rows)
    text = (f"reproduce preset budgets on {args.dataset}, 1 thread, {torch.__version__}\n\n{table}\n\n" +
            "\n".join(f"- {n}" for n in notes) + "\n")
    print(text)
    if args.out:
        write_text(Path(args.out), text)


if __name__ == "__main__":
    main()
