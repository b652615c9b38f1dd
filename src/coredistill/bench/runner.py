"""Run a grid's cells, resumably: one JSON line per finished cell in ``results.jsonl``, keyed by the cell's hash.

Only the parent process writes results (one line per cell, appended and flushed when the cell finishes), so
killing a run loses at most the cells in progress. With ``jobs >= 1`` every cell runs in a fresh process (spawn,
one cell per process), so its peak RSS is its own and ``jobs`` cells run side by side with
``cores // jobs`` torch threads each; ``jobs=0`` runs cells in this process (tests, debugging: peak memory is
then the process's, marked ``peak_scope="process"``).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..atomic import atomic_dir
from ..config import ExpertsConfig
from ..errors import CoredistillError, invalid
from ..folder_lock import exclusive, holder
from ..methods.checkpoint import evaluations_kept, newest_checkpoint
from ..methods.experts import expert_file, is_complete, partial_folder
from .grid import Cell, Grid

RESULTS = "results.jsonl"


def read_results(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Finished cells of ``folder`` by hash (a torn last line from a killed writer is ignored)."""
    path = Path(folder) / RESULTS
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[record["hash"]] = record
    return done


def reuse_results(cells: list, out: Path, sources: list[str | Path], write: bool = True,
                  sets: bool = False) -> list[dict[str, Any]]:
    """Copy into ``out/results.jsonl`` the records of ``cells`` that another results folder already holds: a
    cell's hash is the whole run's identity, so a cell finished by another grid (the same run on this machine) is
    not run again. Sources are results folders or folders above them; each copied record names its source
    (``reused_from``) and its variant as this grid names it. With ``sets`` (a grid that keeps its sets) a cell's
    kept set in its source (``sets/<hash>``) is copied too, before its record. Returns the copied records
    (``write=False``: only returns them, copying nothing)."""
    wanted = {c.hash: c for c in cells}
    copied: dict[str, dict[str, Any]] = {}
    own = out.resolve()
    for source in sources:
        for path in sorted(Path(source).glob(f"**/{RESULTS}")):
            if path.parent.resolve() == own:
                continue
            for h, rec in read_results(path.parent).items():
                if h in wanted and h not in copied:
                    copied[h] = {**rec, "variant": wanted[h].variant, "reused_from": str(path.parent)}
    if copied and write:
        for h, rec in copied.items() if sets else ():
            _copy_set(set_folder(rec["reused_from"], wanted[h]), set_folder(out, wanted[h]))
        with (out / RESULTS).open("a") as f:
            for rec in copied.values():
                f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())
    return list(copied.values())


def _copy_set(source: Path, dest: Path) -> None:
    """Copy a kept set's folder whole (a reader sees none or all of it); one already at ``dest`` stays."""
    if not source.is_dir() or dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(dest) as tmp:
        for f in source.iterdir():
            if f.is_file():
                shutil.copy2(f, tmp / f.name)


def _peak_mb() -> float:
    """Peak memory of this process: the GPU's when there is one; else the peak RSS of this process image
    (Linux VmHWM: ru_maxrss would also keep the launching process's RSS from before exec)."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads): a cell's cost that other jobs sharing
    the machine do not inflate, unlike its wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _versions() -> dict[str, str]:
    from .._version import __version__, source_revision

    return {"coredistill": __version__, "source": source_revision(), "torch": torch.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
            "machine": platform.processor() or platform.machine()}


def expert_folder(out: Path, experts: ExpertsConfig) -> Path:
    return out / "experts" / experts.folder_name


def check_cells(cells: list[Cell]) -> None:
    """Every cell's components and their options, checked before any cell runs: a grid's misspelt option is
    reported at once, naming the cell, not hours later when that cell's turn comes."""
    from ..pipeline import build_parts

    for cell in cells:
        try:
            build_parts(cell.run)
        except CoredistillError as e:
            raise type(e)(f"{cell.label()}: {e}") from None


def limit_threads(threads: int | None) -> None:
    """Run this process on ``threads`` threads: torch's intra-op pool and numpy's BLAS (selection and scoring
    run in numpy; its BLAS otherwise starts a thread per core, and two single-thread cells on two cores then
    fight over them)."""
    if threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        threadpool_limits(limits=threads)


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def expert_sources(experts: ExpertsConfig, roots: Sequence[str | Path]) -> list[Path]:
    """Expert buffers under ``roots`` (results folders, or folders above them) that may hold ``experts``'s
    trajectories: those of its data set and sampler, whatever their size (the build keeps only those of the
    same config)."""
    return sorted({p for root in roots for p in Path(root).glob(f"**/experts/{experts.dataset}-{experts.sampler}-*")
                   if p.is_dir()})


def build_expert_buffer(experts: ExpertsConfig, out: str, threads: int | None = None,
                        reuse: Sequence[str | Path] = ()) -> dict[str, Any]:
    """Train (or finish) one expert buffer under ``out/experts``, copying the experts that buffers of the same
    config under ``reuse`` already hold (another grid's, or a smaller buffer's); returns its build time from its
    manifest."""
    from ..data import load_dataset
    from ..pipeline import ensure_experts

    limit_threads(threads)
    ds = load_dataset(experts.dataset, **experts.dataset_options)
    folder = ensure_experts(experts, ds, Path(out) / "experts", progress=False,
                            seed_from=expert_sources(experts, reuse))
    seconds = json.loads((folder / "manifest.json").read_text()).get("seconds", {})
    return {"folder": str(folder), "experts": len(seconds), "build_s": float(sum(seconds.values()))}


def checkpoint_folder(out: str | Path, cell: Cell) -> Path:
    return Path(out) / "checkpoints" / cell.hash


def set_folder(out: str | Path, cell: Cell) -> Path:
    return Path(out) / "sets" / cell.hash


def distill_cell(cell: Cell, out: str, progress: bool = False, checkpoint_every: int = 0, keep_set: bool = False):
    """Distill and evaluate one cell (building its expert buffer under ``out`` first if it needs one);
    returns the :class:`~coredistill.DistilledSet` and the buffer's build record (or ``None``). With
    ``checkpoint_every`` the distillation checkpoints under ``out/checkpoints/<hash>`` and continues from there
    when a stopped grid runs again; the folder goes once the cell is done. With ``keep_set`` the distilled set is
    saved to ``out/sets/<hash>`` first (an artifact ``coredistill evaluate`` / ``export`` read)."""
    from ..data import load_dataset
    from ..pipeline import run

    experts = None
    if cell.experts is not None:
        experts = build_expert_buffer(cell.experts, out)  # normally built before: a no-op resume
    ds = load_dataset(cell.dataset, **cell.run.dataset_options)
    ckpt = checkpoint_folder(out, cell) if checkpoint_every else None
    result = run(cell.run, ds, experts_dir=Path(out) / "experts", progress=progress, checkpoint_dir=ckpt,
                 checkpoint_every=checkpoint_every, resume=ckpt is not None)
    if keep_set:  # a killed earlier attempt may have saved it before its record was written: replace it
        result.save(set_folder(out, cell), overwrite=True)
    if ckpt is not None:
        shutil.rmtree(ckpt, ignore_errors=True)
    return result, experts


def run_cell(cell: Cell, out: str, threads: int | None = None, isolated: bool = False,
             checkpoint_every: int = 0, keep_set: bool = False) -> dict[str, Any]:
    """Distill and evaluate one cell; the record that ``results.jsonl`` stores."""
    limit_threads(threads)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    res, experts = distill_cell(cell, out, checkpoint_every=checkpoint_every, keep_set=keep_set)
    rec = res.record
    return {
        "hash": cell.hash, "method": cell.method, "dataset": cell.dataset, "ipc": cell.ipc, "variant": cell.variant,
        "seed": cell.seed, "init": cell.init, "sampler": cell.run.real_data_sampler, "preset": cell.run.preset.name,
        "accuracy": rec.accuracy, "accuracy_std_nets": rec.result.std, "accuracies": rec.result.accuracies,
        "metrics": {k: v.mean for k, v in rec.metrics.items()},
        "select_s": rec.timings.selection_s, "features_s": rec.timings.features_s, "prune_s": rec.timings.prune_s,
        "distill_s": rec.timings.distill_s,
        "scoring_s": rec.sampler_seconds, "eval_s": rec.timings.eval_s,
        "experts_build_s": None if experts is None else experts["build_s"],
        "iterations": int(cell.run.method_options.get("iterations", 0)) if cell.method != "none" else 0,
        "peak_mb": _peak_mb(), "peak_scope": "cell" if isolated else "process",
        "threads": torch.get_num_threads(), "blas_threads": _blas_threads(),
        "wall_s": time.perf_counter() - t0, "cpu_s": _cpu_seconds() - cpu0,
        # a cell resumed from its checkpoint: distill_s includes the earlier processes' time, wall_s and cpu_s not
        "resumed_from": res.manifest.get("log", {}).get("resumed_from"),
        "curve": rec.curve,
        "refreshes": [{"iteration": h["iteration"], "seconds": h["seconds"], "fit_s": h.get("fit_seconds"),
                       "entropy_ratio": float(np.mean([c["entropy"] / c["max_entropy"] for c in h["classes"]])),
                       "mass90": float(np.mean([c["mass90_fraction"] for c in h["classes"]]))}
                      for h in rec.refreshes],
        "versions": _versions(), "config": cell.config,
    }


def progress(grid: Grid, out: str | Path, done: dict[str, dict[str, Any]]) -> list[str]:
    """What ``out`` holds beyond its finished cells, one line each: the run writing it (if any), the cells a
    stopped or running grid has checkpointed (iteration, distillation seconds, curve so far), the unfinished cells
    without a checkpoint, and the expert buffers part-built (experts written, the epoch of the one in training).
    Reads only."""
    out = Path(out)
    writer = holder(out)
    lines = [f"written now by {writer}" if writer else "no run is writing this folder"]
    cells = {c.hash: c for c in grid.cells() if c.hash not in done}
    waiting = []
    for cell in cells.values():
        folder = checkpoint_folder(out, cell)
        try:
            state = newest_checkpoint(folder) if folder.is_dir() else None
        except CoredistillError as e:
            lines.append(f"{cell.label()}: {e}")
            continue
        if state is None:
            waiting.append(cell)
        else:
            log, total = state.get("log", {}), cell.run.method_options.get("iterations")
            seconds, done_iterations = log.get("seconds", 0.0), state["iteration"]
            left = (f" (about {seconds / done_iterations * (total - done_iterations):.0f} s more at its pace so far)"
                    if isinstance(total, int) and done_iterations else "")
            points = log.get("curve", [])
            curve = ", ".join(f"{100 * p['accuracy']:.2f} % at {p['iteration']}" for p in points)
            lines.append(f"{cell.label()}: checkpointed at iteration {done_iterations} of {total or '?'}, "
                         f"{seconds:.0f} s of distillation{left}" + (f"; curve {curve}" if curve else "")
                         + _evaluations_under_way(folder, cell, {p["iteration"] for p in points}))
    if waiting:  # not started, or started without a checkpoint yet (a cell without checkpoint_every has none)
        more = f" and {len(waiting) - 8} more" if len(waiting) > 8 else ""
        named = ", ".join(c.label() for c in waiting[:8]) + more
        lines.append(f"{len(waiting)} cell(s) without a checkpoint: {named}")
    for spec in {c.experts.hash: c.experts for c in cells.values() if c.experts is not None}.values():
        folder = expert_folder(out, spec)
        if not folder.is_dir() or is_complete(folder, spec.num_experts):
            continue
        written = [i for i in range(spec.num_experts) if expert_file(folder, i).is_file()]
        line = f"experts {spec.folder_name}: {len(written)} of {spec.num_experts} written"
        for i in range(spec.num_experts):
            try:
                state = newest_checkpoint(partial_folder(folder, i)) if partial_folder(folder, i).is_dir() else None
            except CoredistillError:
                state = None
            if state is not None:
                line += f"; expert {i} at epoch {state['iteration']} of {spec.preset.experts.get('epochs', '?')}"
        lines.append(line)
    return lines


def _evaluations_under_way(folder: Path, cell: Cell, curve_points: set[int]) -> str:
    """The evaluations a checkpointed cell has begun and not finished (their nets tested so far): an IPC-10
    evaluation under the field's protocol takes longer than many iterations."""
    parts = []
    for name, tested in evaluations_kept(folder).items():
        kind, _, at = name.partition("-")
        if kind == "curve" and at.isdigit() and int(at) not in curve_points:
            nets = cell.run.curve_nets or cell.run.preset.eval_nets
        elif kind == "final":
            nets = cell.run.preset.eval_nets
        else:
            continue
        if len(tested) < nets:
            parts.append(f"{name} {len(tested)} of {nets} nets tested"
                         + (f" ({', '.join(f'{100 * a:.2f} %' for a in tested.values())})" if tested else ""))
    return f"; evaluating: {'; '.join(parts)}" if parts else ""


def _exit_with_parent(poll_s: float = 1.0) -> None:
    """Pool initializer: end this worker when the grid process that started it dies. A killed grid's workers
    would otherwise run their cells to the end as orphans, competing for the cores with whatever runs next,
    and their results would be lost (only the parent writes results); a cell that checkpoints resumes anyway."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:  # an orphan is re-parented, so its parent id changes
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _isolated_cell(cell: Cell, out: str, threads: int, checkpoint_every: int = 0,
                   keep_set: bool = False) -> dict[str, Any]:
    # the worker's stdout is the grid's (its log): a cell of hours shows when it started, and in which process
    print(f"  started {cell.label()} (process {os.getpid()}, {time.strftime('%Y-%m-%d %H:%M:%S')})", flush=True)
    return run_cell(cell, out, threads, isolated=True, checkpoint_every=checkpoint_every, keep_set=keep_set)


def _failure(e: BaseException) -> str:
    """What a failed cell's log line says: a library error's own message (a wrong setting, another run's
    checkpoint, a diverged loss), or the traceback of anything unexpected (a process pool re-raises the worker's
    exception with the worker's traceback as its cause)."""
    if isinstance(e, CoredistillError):
        return f"{type(e).__name__}: {e}"
    return "\n" + "".join(traceback.format_exception(e))


def run_grid(grid: Grid, out: str | Path, *, jobs: int = 1, threads: int | None = None,
             only: dict[str, set[str]] | None = None,
             on_record: Callable[[dict], None] | None = None,
             log: Callable[[str], None] = print,
             reuse: list[str | Path] = ()) -> dict[str, dict[str, Any]]:
    """Run every cell of ``grid`` not yet in ``out/results.jsonl``; returns all finished records by hash.
    ``reuse``: results folders whose finished cells of this grid (same hash) are copied instead of run
    (:func:`reuse_results`).

    ``only`` restricts the run to cells whose fields match, e.g. ``{"method": {"mtt"}, "ipc": {"1"}}``.
    Cells that need no expert buffer run first; a buffer is built (resumable per expert and epoch) before the
    cells that need it, and a failed build fails only those. A failing cell is reported (the library's
    own errors by their message, which says what to change; anything else with its traceback) and left unfinished
    (a rerun retries it); the other cells go on. One run writes ``out`` at a time: a second is refused, naming the
    first (:func:`~coredistill.folder_lock.exclusive`).
    """
    with exclusive(out, "out"):  # a second run on this folder would run and checkpoint the same cells
        return _run_grid(grid, Path(out), jobs=jobs, threads=threads, only=only, on_record=on_record, log=log,
                         reuse=reuse)


def _run_grid(grid: Grid, out: Path, *, jobs: int, threads: int | None, only: dict[str, set[str]] | None,
              on_record: Callable[[dict], None] | None, log: Callable[[str], None],
              reuse: list[str | Path]) -> dict[str, dict[str, Any]]:
    done = read_results(out)
    # variants that resolve to the same run (sampler="aligned" where the rule chose uniform batches: the
    # baseline) share one hash: it runs once and the report shows it under each variant
    first: dict[str, Any] = {}
    for c in grid.cells():
        first.setdefault(c.hash, c)
    cells = list(first.values())
    if reuse:
        for rec in reuse_results([c for c in cells if c.hash not in done], out, list(reuse),
                                 sets=grid.keep_sets):
            done[rec["hash"]] = rec
            log(f"  {rec['dataset']} ipc {rec['ipc']} seed {rec['seed']} {rec['method']}/{rec['variant']}: "
                f"{100 * rec['accuracy']:.2f}% (reused from {rec['reused_from']})")
    only = only or {}
    for key, values in only.items():  # a misspelt value would otherwise select nothing, silently
        known = {str(getattr(c, key)) for c in cells}
        if not set(values) <= known:
            raise invalid(f"only {key}", sorted(set(values) - known),
                          f"values the grid's cells have: {', '.join(sorted(known))}")
    todo = [c for c in cells if c.hash not in done
            and all(str(getattr(c, key)) in values for key, values in only.items())]
    check_cells(todo)
    # a buffer already complete holds back nothing: its cells run with the others
    specs = [s for s in {c.experts.hash: c.experts for c in todo if c.experts is not None}.values()
             if not is_complete(expert_folder(out, s), s.num_experts)]
    threads = threads or max(1, (os.cpu_count() or 1) // max(jobs, 1))
    log(f"grid {grid.name}: {len(done)} cells done here, {len(todo)} to run, {len(specs)} expert buffers, "
        f"jobs={jobs}" + (f" × {threads} threads" if jobs else ""))
    failures = 0

    def record(rec: dict[str, Any]) -> None:
        done[rec["hash"]] = rec
        with (out / RESULTS).open("a") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())
        log(f"  {rec['dataset']} ipc {rec['ipc']} seed {rec['seed']} {rec['method']}/{rec['variant']}: "
            f"{100 * rec['accuracy']:.2f}% ({rec['wall_s']:.0f} s)")
        if on_record is not None:
            on_record(rec)

    # cells that need no expert buffer run first, in grid order, so that an expert build of hours delays only
    # the cells that need it; those run once their buffer is built
    to_build = {s.hash for s in specs}
    free = [c for c in todo if c.experts is None or c.experts.hash not in to_build]
    waiting: dict[str, list[Cell]] = {}
    for c in todo:
        if c.experts is not None and c.experts.hash in to_build:
            waiting.setdefault(c.experts.hash, []).append(c)

    def built(spec: ExpertsConfig, build: Callable[[], dict[str, Any]]) -> list[Cell]:
        """The cells ``spec``'s buffer lets run: all of them once it is built, none when its build failed."""
        nonlocal failures
        try:
            log(f"  experts {spec.folder_name}: {build()['build_s']:.0f} s")
        except Exception as e:  # noqa: BLE001 — its cells cannot run; the others go on
            failures += len(waiting[spec.hash])
            log(f"  FAILED experts {spec.folder_name} ({len(waiting[spec.hash])} cells wait for it): {_failure(e)}")
            return []
        return waiting[spec.hash]

    if jobs == 0:
        def run_here(cell: Cell) -> None:
            nonlocal failures
            log(f"  started {cell.label()}")
            try:
                rec = run_cell(cell, str(out), checkpoint_every=grid.checkpoint_every, keep_set=grid.keep_sets)
            except Exception as e:  # noqa: BLE001 — one bad cell must not lose the others
                failures += 1
                log(f"  FAILED {cell.label()}: {_failure(e)}")
                return
            record(rec)

        for cell in free:
            run_here(cell)
        for spec in specs:
            for cell in built(spec, lambda: build_expert_buffer(spec, str(out), reuse=reuse)):
                run_here(cell)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, max_tasks_per_child=1,
                                 initializer=_exit_with_parent) as pool:
            # the pool takes tasks first in, first out: the free cells, then the builds, then (as each build
            # finishes) its cells
            pending: dict[Future, Cell | ExpertsConfig] = {}
            for c in free:
                pending[pool.submit(_isolated_cell, c, str(out), threads, grid.checkpoint_every, grid.keep_sets)] = c
            for s in specs:
                pending[pool.submit(build_expert_buffer, s, str(out), threads, list(reuse))] = s
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    item = pending.pop(fut)
                    if isinstance(item, ExpertsConfig):
                        for c in built(item, fut.result):
                            pending[pool.submit(_isolated_cell, c, str(out), threads, grid.checkpoint_every,
                                                grid.keep_sets)] = c
                        continue
                    try:
                        rec = fut.result()
                    except Exception as e:  # noqa: BLE001
                        failures += 1
                        log(f"  FAILED {item.label()}: {_failure(e)}")
                        continue
                    record(rec)
    if failures:
        log(f"grid {grid.name}: {failures} cell(s) failed; rerun to retry them")
    return done
