"""Build a grid's MTT expert buffers ahead of its cells, beside a running slice of the same grid.

A grid builds each buffer itself before the cells that need it, but only inside the run that holds the grid's
results folder: while another slice of the grid runs there, this script trains the buffers into the same
``benchmarks/results/GRID/experts/`` (each buffer has its own lock, so a grid run reaching it later waits for
nothing it has: it finds the buffer complete, or resumes it per expert and epoch). Experts that buffers of the
same build config elsewhere under ``benchmarks/results`` already hold are copied, not trained.

    python benchmarks/build_experts.py aligned-final     # every buffer the grid's cells need, one thread
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from coredistill.bench import Grid
from coredistill.bench.runner import build_expert_buffer

ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", help="a grid name under benchmarks/grids/ or a YAML path")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    path = Path(args.grid) if args.grid.endswith(".yaml") else ROOT / "grids" / f"{args.grid}.yaml"
    grid = Grid.load(path)
    specs = {c.experts.hash: c.experts for c in grid.cells() if c.experts is not None}
    # uniform buffers first: every variant but the relative-loss ones waits for them
    for spec in sorted(specs.values(), key=lambda s: (s.sampler != "uniform", s.dataset, s.sampler)):
        t0 = time.perf_counter()
        built = build_expert_buffer(spec, str(ROOT / "results" / grid.name), threads=args.threads,
                                    reuse=[ROOT / "results"])
        print(f"{spec.folder_name}: {built['experts']} experts, {built['build_s']:.0f} s of training recorded, "
              f"{time.perf_counter() - t0:.0f} s here", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
