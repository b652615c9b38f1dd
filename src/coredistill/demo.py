"""The main job of ``make demo``: distill the default data set with each baseline and print one table.

Rows: real-image selections without learning (the field's random baseline, the coreset paper's k-means sensitivity
sampling, herding, k-center), then each named method (DM by default; any of ``coredistill bench``'s methods,
e.g. ``mtt`` or ``rfad``) as the field runs it (random real images, uniform real batches), +init (the coreset paper's
initializer for that method), +sampling (relative-loss importance-sampled real batches; for MTT, experts trained
with them) and +both — the same cells as a ``bench`` grid — then aligned-both (typical images by ``kmeans-coreset`` in
a teacher's features, with the real batches validated for the method and IPC), at each IPC, and a full-data
reference.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from .bench import Grid
from .bench.runner import distill_cell
from .data import load_dataset
from .evaluate import evaluate
from .pipeline import prepare_real
from .presets import get_preset
from .seeding import child_seeds
from .table import format_table, pct

SELECTION = ["random", "kmeans-sensitivity", "herding", "k-center"]
# the seed's four cells per method, then the budget-aware recipe of issue 18 (coredistill.variants): typical images
# that keep the coreset guarantee, chosen in a trained network's features, and the real batches validated for the
# method and IPC
VARIANTS = ["baseline", "init", "sampling", "both", "aligned-both"]


def demo_grid(dataset: str = "digits", *, path: str | None = None, ipcs: Sequence[int] = (1, 10),
              preset: str = "cpu", seed: int = 0, methods: Sequence[str] = ("dm",), num_experts: int = 2) -> Grid:
    """The demo's rows as a bench grid (one seed)."""
    return Grid.from_dict({"name": "demo", "preset": preset, "datasets": [dataset], "ipc": list(ipcs),
                           "seeds": [seed], "methods": list(methods), "variants": VARIANTS, "selection": SELECTION,
                           "dataset_options": {dataset: {"path": path}} if path else {},
                           "experts": {"num_experts": num_experts}}, source="demo")


def run_demo(dataset: str = "digits", *, path: str | None = None, ipcs: Sequence[int] = (1, 10),
             preset: str = "cpu", seed: int = 0, methods: Sequence[str] = ("dm",), out_dir: Path = Path("demo-output"),
             full_data: bool = True, progress: bool = True) -> list[list[str]]:
    start = time.perf_counter()
    ds = load_dataset(dataset, path=path)
    p = get_preset(preset)
    print(f"coredistill demo: {ds.name} ({len(ds.y_train)} train / {len(ds.y_test)} test, "
          f"{ds.channels}x{ds.image_size[0]}x{ds.image_size[1]}), preset {p.name}: {p.description}", flush=True)
    table: list[list[str]] = []
    for cell in demo_grid(dataset, path=path, ipcs=ipcs, preset=p.name, seed=seed, methods=methods).cells():
        t0 = time.perf_counter()
        result, _ = distill_cell(cell, str(out_dir), progress=progress)
        sampler = "-" if cell.method == "none" else (cell.experts.sampler + " (experts)" if cell.experts
                                                      else cell.sampler)
        result.save(out_dir / f"{ds.name}-ipc{cell.ipc}-{cell.method}-{cell.variant}", overwrite=True)
        r = result.record.result
        table.append([ds.name, str(cell.ipc), cell.method, cell.variant, cell.init, sampler,
                      str(len(result.images)), pct(r.mean, r.std), f"{time.perf_counter() - t0:.1f}"])
        print(f"  ipc {cell.ipc:>3} {cell.method}/{cell.variant}: {cell.init}/{sampler}: {pct(r.mean, r.std)} %",
              flush=True)
    if full_data:
        t0 = time.perf_counter()
        train_x, test_x = prepare_real(ds, None)
        r = evaluate(train_x, ds.y_train, test_x, ds.y_test, num_classes=ds.num_classes, preset=p,
                     seed=child_seeds(seed, ["full"])["full"], progress=progress)
        table.append([ds.name, "all", "full data", "-", "-", "-", str(len(train_x)), pct(r.mean, r.std),
                      f"{time.perf_counter() - t0:.1f}"])
    print()
    print(format_table(["dataset", "ipc", "method", "variant", "init", "real batches", "images", f"{p.model} acc % (mean ± std, "
                        f"{p.eval_nets} nets)", "seconds"], table))
    print(f"\nartifacts in {out_dir}/ ; total {time.perf_counter() - start:.0f} s")
    return table
