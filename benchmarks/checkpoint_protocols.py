"""A grid cell's images at a checkpoint against its own starting images, on the same eval nets, with and without the
preset's per-image augmentation: does what the method learned survive the evaluation's augmentation? With
``--rfad-finite WIDTH`` also under RFAD's own finite-network protocol (`coredistill.centered_eval`, at that width;
RFAD's is 1024) with its published settings for the cell's data set and IPC.

The cell's starting images are recomputed by the run's own selection step (`pipeline.select_initial`: its feature
space, initializer and `select` child seed; cells that prune the train split first are refused); both sets train
the same nets (the cell's `eval` child seed), so each row is a paired comparison.

    git show 674a2a9:benchmarks/results/reproduce/checkpoints/f4e8068aed8a85d4/checkpoint.pt > /tmp/rfad.pt
    python benchmarks/checkpoint_protocols.py --grid reproduce --hash f4e8068aed8a85d4 --checkpoint /tmp/rfad.pt
    python benchmarks/checkpoint_protocols.py --grid reproduce --hash f4e8068aed8a85d4 --checkpoint /tmp/rfad.pt \
        --rfad-finite 128 --no-field
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from coredistill.bench import Grid
from coredistill.centered_eval import RFAD_VALIDATION_PER_CLASS, RFAD_WIDTH, evaluate_centered, rfad_finite_settings, \
    validation_indices
from coredistill.data import load_dataset
from coredistill.evaluate import evaluate
from coredistill.methods.krr import mapped_images
from coredistill.pipeline import SEED_NAMES, build_parts, prepare, select_initial
from coredistill.seeding import child_seeds

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", required=True)
    parser.add_argument("--hash", required=True, help="the cell's hash (its checkpoint folder's name)")
    parser.add_argument("--checkpoint", required=True, help="a checkpoint.pt of that cell")
    parser.add_argument("--nets", type=int, default=None, help="eval nets (default: the preset's)")
    parser.add_argument("--rfad-finite", type=int, default=None, metavar="WIDTH",
                        help="also evaluate under RFAD's finite-network protocol with nets of this width")
    parser.add_argument("--max-steps", type=int, default=20_000, help="RFAD protocol: at most this many steps")
    parser.add_argument("--val-per-class", type=int, default=RFAD_VALIDATION_PER_CLASS,
                        help="RFAD protocol: held-out train images per class for the best-step choice")
    parser.add_argument("--lr-to-width", action="store_true",
                        help="RFAD protocol: scale its lr by 1024 / WIDTH (a standard-parameterized net's kernel "
                             "grows with width, so a narrower net at the same lr moves slower)")
    parser.add_argument("--no-field", action="store_true", help="skip the field protocol's rows")
    args = parser.parse_args(argv)
    grid = Grid.load(ROOT / "grids" / f"{args.grid}.yaml")
    cells = [c for c in grid.cells() if c.hash == args.hash]
    if not cells:
        parser.error(f"--hash {args.hash!r}: no cell of grid {args.grid!r} has it")
    run = cells[0].run
    if run.prune:
        parser.error(f"--hash {args.hash!r}: the cell prunes its train split first (not supported here)")
    p = run.preset
    ds = load_dataset(run.dataset, **run.dataset_options)
    data = prepare(ds, run.zca_eps)
    state = torch.load(args.checkpoint, weights_only=True)  # tensors and plain containers only
    seeds = child_seeds(run.seed, SEED_NAMES)
    start = select_initial(run, build_parts(run), ds, data, seeds, torch.device("cpu"), False, {})
    idx = torch.from_numpy(start.indices)
    images = state["images"].float()
    if "transform" in state.get("method", {}):  # RFAD's code's learned map: the set is the mapped images
        images = mapped_images(images, state["method"]["transform"].float())
    sets = {"starting images": data.train_x[idx], f"iteration {state['iteration']}": images}
    labels = ds.y_train[idx]
    print(f"cell {args.hash}: {run.method} {run.dataset} IPC {run.ipc} seed {run.seed}, preset {p.name}")
    print("| augmentation | " + " | ".join(sets) + " | Δ |")
    print("|---|---|---|---|")
    for aug in () if args.no_field else (p.augment_without_dsa(run.dataset), None):
        means = [evaluate(x, labels, data.test_x, ds.y_test, num_classes=ds.num_classes, model=p.model, preset=p,
                          dsa=False, augment_without_dsa=aug, nets=args.nets, seed=seeds["eval"],
                          progress=False).mean * 100 for x in sets.values()]
        print(f"| {aug or 'none'} | " + " | ".join(f"{m:.2f}" for m in means) + f" | {means[1] - means[0]:+.2f} |",
              flush=True)
    if args.rfad_finite:
        settings = rfad_finite_settings(run.dataset, run.ipc)
        if args.lr_to_width:
            settings["lr"] *= RFAD_WIDTH / args.rfad_finite
        val = validation_indices(ds.y_train, args.val_per_class, ds.num_classes, seeds["eval"])
        results = [evaluate_centered(x, labels, data.train_x[val], ds.y_train[val], data.test_x, ds.y_test,
                                     num_classes=ds.num_classes, width=args.rfad_finite, max_steps=args.max_steps,
                                     nets=args.nets or 1, seed=seeds["eval"], progress=False, **settings)
                   for x in sets.values()]
        means = [r.mean * 100 for r in results]
        steps = " / ".join(str(r.best_steps) for r in results)
        print(f"| RFAD finite-network, width {args.rfad_finite}, {len(val)} validation images ({settings}; best "
              f"steps {steps}) | "
              + " | ".join(f"{m:.2f}" for m in means) + f" | {means[1] - means[0]:+.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
