"""A grid cell's images at a checkpoint against its own starting images, on the same eval nets, with and without the
preset's per-image augmentation: does what the method learned survive the evaluation's augmentation?

The cell's starting images are recomputed by the run's own selection step (`pipeline.select_initial`: its feature
space, initializer and `select` child seed; cells that prune the train split first are refused); both sets train
the same nets (the cell's `eval` child seed), so each row is a paired comparison.

    git show 674a2a9:benchmarks/results/reproduce/checkpoints/f4e8068aed8a85d4/checkpoint.pt > /tmp/rfad.pt
    python benchmarks/checkpoint_protocols.py --grid reproduce --hash f4e8068aed8a85d4 --checkpoint /tmp/rfad.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from coredistill.bench import Grid
from coredistill.data import load_dataset
from coredistill.evaluate import evaluate
from coredistill.pipeline import SEED_NAMES, build_parts, prepare, select_initial
from coredistill.seeding import child_seeds

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", required=True)
    parser.add_argument("--hash", required=True, help="the cell's hash (its checkpoint folder's name)")
    parser.add_argument("--checkpoint", required=True, help="a checkpoint.pt of that cell")
    parser.add_argument("--nets", type=int, default=None, help="eval nets (default: the preset's)")
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
    sets = {"starting images": data.train_x[idx], f"iteration {state['iteration']}": state["images"].float()}
    labels = ds.y_train[idx]
    print(f"cell {args.hash}: {run.method} {run.dataset} IPC {run.ipc} seed {run.seed}, preset {p.name}")
    print("| augmentation | " + " | ".join(sets) + " | Δ |")
    print("|---|---|---|---|")
    for aug in (p.augment_without_dsa(run.dataset), None):
        means = [evaluate(x, labels, data.test_x, ds.y_test, num_classes=ds.num_classes, model=p.model, preset=p,
                          dsa=False, augment_without_dsa=aug, nets=args.nets, seed=seeds["eval"],
                          progress=False).mean * 100 for x in sets.values()]
        print(f"| {aug or 'none'} | " + " | ".join(f"{m:.2f}" for m in means) + f" | {means[1] - means[0]:+.2f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
