"""The main job of ``make demo``: distill the default data set with each baseline and print one table.

Rows: real-image selections without learning (the field's random baseline, the seed's k-means sensitivity
sampling, herding, k-center), then distribution matching (DM) as the field runs it (random real images, uniform
real batches), +init (sensitivity-sampled initial images), +sampling (relative-loss importance-sampled real
batches) and +both, at each IPC, and a full-data reference.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from .data import load_dataset
from .evaluate import evaluate
from .pipeline import distill, prepare_real
from .presets import get_preset
from .seeding import child_seeds
from .table import format_table, pct

ROWS: list[dict[str, Any]] = (
    [{"method": "none", "init": name, "sampler": "uniform"}
     for name in ("random", "kmeans-sensitivity", "herding", "k-center")]
    + [{"method": "dm", "init": init, "sampler": sampler} for sampler in ("uniform", "relative-loss")
       for init in ("random", "kmeans-sensitivity")])


def run_demo(dataset: str = "digits", *, path: str | None = None, ipcs: Sequence[int] = (1, 10),
             preset: str = "cpu", seed: int = 0, out_dir: Path = Path("demo-output"), full_data: bool = True,
             progress: bool = True) -> list[list[str]]:
    start = time.perf_counter()
    ds = load_dataset(dataset, path=path)
    p = get_preset(preset)
    print(f"coredistill demo: {ds.name} ({len(ds.y_train)} train / {len(ds.y_test)} test, "
          f"{ds.channels}x{ds.image_size[0]}x{ds.image_size[1]}), preset {p.name}: {p.description}", flush=True)
    table: list[list[str]] = []
    for ipc in ipcs:
        for row in ROWS:
            t0 = time.perf_counter()
            result = distill(ds, ipc=ipc, method=row["method"], init=row["init"], sampler=row["sampler"], preset=p,
                             seed=seed, dataset_options={"path": path}, progress=progress)
            result.save(out_dir / f"{ds.name}-ipc{ipc}-{row['method']}-{row['init']}-{row['sampler']}",
                        overwrite=True)
            r = result.manifest["metrics"][p.model]
            sampler = row["sampler"] if row["method"] != "none" else "-"
            table.append([ds.name, str(ipc), row["method"], row["init"], sampler, str(len(result.images)),
                          pct(r["mean"], r["std"]), f"{time.perf_counter() - t0:.1f}"])
            print(f"  ipc {ipc:>3} {row['method']}/{row['init']}/{sampler}: {pct(r['mean'], r['std'])} %", flush=True)
    if full_data:
        t0 = time.perf_counter()
        train_x, test_x = prepare_real(ds, None)
        r = evaluate(train_x, ds.y_train, test_x, ds.y_test, num_classes=ds.num_classes, preset=p,
                     seed=child_seeds(seed, ["full"])["full"], progress=progress)
        table.append([ds.name, "all", "full data", "-", "-", str(len(train_x)), pct(r.mean, r.std),
                      f"{time.perf_counter() - t0:.1f}"])
    print()
    print(format_table(["dataset", "ipc", "method", "init", "real batches", "images", f"{p.model} acc % (mean ± std, "
                        f"{p.eval_nets} nets)", "seconds"], table))
    print(f"\nartifacts in {out_dir}/ ; total {time.perf_counter() - start:.0f} s")
    return table
