"""Re-timed cells: the code before and after a change, side by side on today's machine, and the grid's new cost.

Timings from another day are not comparable (the machine behind the same name changes), so a sample of a
finished grid's cells is re-run twice *at the same time*, one process with the old code and one with the new
(same configuration, so the same hashes; each is the other's contention, as the grid's two jobs were):

    git worktree add /tmp/old <old commit>
    PYTHONPATH=/tmp/old/src coredistill bench --grid benchmarks/grids/cpu.yaml --out /tmp/sbs-old --jobs 1 \\
        --threads 1 --only seed=0 --only dataset=mnist --only ipc=1 ... &
    coredistill bench --grid benchmarks/grids/cpu.yaml --out /tmp/sbs-new --jobs 1 --threads 1 --only ... ; wait
    python benchmarks/grid_estimate.py --stored benchmarks/results/cpu --old /tmp/sbs-old --new /tmp/sbs-new \\
        --iteration-ratios benchmarks/results/throughput/methods_cpu_1thread.md \\
        benchmarks/results/throughput/methods_mtt_cpu_1thread.md

Per re-timed cell: accuracies (stored, old code today, new code today) and the phases' seconds. The whole grid is
re-estimated phase by phase: each stored cell's selection, distillation and evaluation seconds are scaled by the
ratio new / old measured on the re-timed cells of the same method and IPC (selection: on those whose selection
took at least a second, i.e. that ran a feature-based initializer; else unchanged). A method with no re-timed cell takes its
distillation ratio from ``--iteration-ratios`` (the throughput benchmark's per-iteration before/after) and its
evaluation ratio from the re-timed cells of the same IPC.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

from coredistill.table import format_table

PHASES = ("select_s", "distill_s", "eval_s")


def load(folder: Path) -> dict[str, dict]:
    return {r["hash"]: r for r in map(json.loads, (folder / "results.jsonl").read_text().splitlines()) if r}


def iteration_ratios(path: list[Path] | None) -> dict[str, float]:
    """method -> now / before seconds per iteration, read from the throughput benchmark's methods table."""
    out = {}
    for line in "\n".join(p.read_text() for p in path or []).splitlines():  # a later file overrides
        m = re.match(r"\|\s*(\w+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", line)
        if m:
            out[m[1]] = float(m[3]) / float(m[2])
    return out


def core_seconds(rec: dict) -> float:
    return float(rec.get("cpu_s") or rec["wall_s"] * rec.get("threads", 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=Path, required=True, help="the grid's results folder")
    ap.add_argument("--old", type=Path, required=True, help="the sample re-run with the old code")
    ap.add_argument("--new", type=Path, required=True, help="the same sample with the new code, side by side")
    ap.add_argument("--iteration-ratios", type=Path, nargs="+")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    stored, old, new = load(a.stored), load(a.old), load(a.new)
    missing = sorted(set(new) - set(stored))
    rows, ratios = [], defaultdict(lambda: defaultdict(list))
    for h, n in sorted(new.items(), key=lambda kv: (kv[1]["method"], kv[1]["ipc"])):
        if h not in old or h not in stored:
            continue
        o = old[h]
        same = o["accuracies"] == n["accuracies"]
        diff = max(abs(x - y) for x, y in zip(o["accuracies"], n["accuracies"]))
        pct = lambda accs: " / ".join(f"{100 * v:.2f}" for v in accs)  # noqa: E731
        for phase in PHASES:
            if phase != "select_s" or o[phase] >= 1.0:
                ratios[(n["method"], n["ipc"])][phase].append(n[phase] / max(o[phase], 1e-9))
        rows.append([n["method"], n["ipc"], n["variant"], h, pct(stored[h]["accuracies"]), pct(o["accuracies"]),
                     "identical" if same else f"{pct(n['accuracies'])} (max diff {100 * diff:.2f})",
                     f"{o['select_s']:.1f} → {n['select_s']:.1f}", f"{o['distill_s']:.1f} → {n['distill_s']:.1f}",
                     f"{o['eval_s']:.1f} → {n['eval_s']:.1f}",
                     f"{core_seconds(o):.0f} → {core_seconds(n):.0f}"])
    lines = [format_table(["method", "ipc", "variant", "hash", "stored acc % (3 nets)", "old code today",
                           "new code today", "select s old → new", "distill s old → new", "eval s old → new",
                           "core-s old → new"], rows)]
    if missing:
        lines.append(f"\n{len(missing)} re-timed cell(s) have no stored record (a changed hash): {', '.join(missing)}")
    per_iter = iteration_ratios(a.iteration_ratios)
    by_ipc_eval = defaultdict(list)
    for (method, ipc), r in ratios.items():
        by_ipc_eval[ipc] += r["eval_s"]
    groups = defaultdict(lambda: [0, 0.0, 0.0, ""])
    for o in stored.values():
        key = (o["method"], o["ipc"])
        r = ratios.get(key)
        if r:
            rd, re_, source = statistics.median(r["distill_s"]), statistics.median(r["eval_s"]), "re-timed cells"
            rs = statistics.median(r["select_s"]) if r["select_s"] else 1.0
        else:
            rd, rs = per_iter.get(o["method"], 1.0), 1.0
            re_ = statistics.median(by_ipc_eval[o["ipc"]]) if by_ipc_eval[o["ipc"]] else 1.0
            source = ("distill: per-iteration ratio" if o["method"] in per_iter else "distill: unchanged (no ratio)") \
                + f"; eval: re-timed cells of IPC {o['ipc']}"
        # the phases' shares of the cell's wall time, applied to its core-seconds (wall and CPU time differ
        # under contention)
        total = core_seconds(o)
        saved = total * (o["select_s"] * (1 - rs) + o["distill_s"] * (1 - rd) + o["eval_s"] * (1 - re_)) / max(
            o["wall_s"], 1e-9)
        g = groups[key]
        g[0] += 1
        g[1] += total
        g[2] += max(total - saved, 0.0)
        g[3] = f"{source} (distill x{rd:.2f}, eval x{re_:.2f}" + (f", select x{rs:.2f})" if rs != 1.0 else ")")
    est = [[m, ipc, g[0], f"{g[1] / 3600:.2f}", f"{g[2] / 3600:.2f}", g[3]] for (m, ipc), g in sorted(
        groups.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    before, after = sum(g[1] for g in groups.values()), sum(g[2] for g in groups.values())
    lines += ["", format_table(["method", "ipc", "cells", "core-hours stored", "core-hours estimated now", "from"], est),
              "", f"whole grid: {before / 3600:.1f} core-hours stored → {after / 3600:.1f} estimated now "
              f"({before / max(after, 1e-9):.2f}x); expert buffers not included"]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
