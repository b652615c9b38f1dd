"""What a grid's finished cells say: ``results.csv``, markdown tables and plots.

* **results** — mean ± std over seeds per (data set, IPC, method, variant); the Δ of each variant against the
  same method's ``baseline`` (selection baselines: against ``random``) on the seeds both finished, with the
  two-sided paired t-test across those seeds;
* **verdict** — per method, data set and IPC: which variant won, by how much and how sure;
* **cost** — per method: share of time in selection and in importance scoring, the expert-buffer build time,
  and (with curves) the iteration at which ``both`` first reaches the baseline's final accuracy, beside the
  iteration at which the baseline itself first does (a curve that wobbles reaches its own end early);
* **sampler** — per method, data set and IPC with importance-sampled batches: how far the sampler's
  probabilities were from uniform (entropy / log(pool), the pool fraction holding 90 % of the mass), beside the
  variant's Δ: the evidence for reading a gain or a loss.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..atomic import write_text
from ..table import format_table
from .grid import Grid, selection_variant

CSV_COLUMNS = ["method", "dataset", "ipc", "variant", "seed", "init", "sampler", "accuracy", "accuracy_std_nets",
               "kernel_accuracy", "select_s", "distill_s", "scoring_s", "eval_s", "experts_build_s", "peak_mb",
               "peak_scope", "threads", "wall_s", "cpu_s", "preset", "coredistill", "source", "torch", "numpy",
               "python", "machine", "hash"]


def _current(grid: Grid, done: dict[str, dict]) -> list[dict]:
    """The finished records of this grid's cells, in grid order (stale hashes from older settings are left out),
    each named by the grid's variant now: a variant renamed after its run (e.g. ``preset`` pinned to the settings
    the preset had then) keeps its stored result under the new name."""
    return [{**done[c.hash], "variant": c.variant} for c in grid.cells() if c.hash in done]


def _kernel_accuracy(rec: dict) -> float | None:
    extra = [v for k, v in rec["metrics"].items() if k.startswith("KRR")]
    return extra[0] if extra else None


def results_csv(records: Iterable[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow({**{k: r.get(k) for k in CSV_COLUMNS}, **r["versions"], "kernel_accuracy": _kernel_accuracy(r)})
    return buf.getvalue()


def _baseline_variant(method: str) -> str:
    return "random" if method == "none" else "baseline"


def paired(a: dict[int, float], b: dict[int, float]) -> tuple[float, float, float, int]:
    """Mean and std of per-seed differences a − b on common seeds, the paired t-test p-value (nan below 2
    seeds or with identical differences) and the number of pairs."""
    from scipy import stats

    seeds = sorted(set(a) & set(b))
    d = np.array([a[s] - b[s] for s in seeds])
    if len(d) == 0:
        return math.nan, math.nan, math.nan, 0
    if len(d) < 2 or np.allclose(d, d[0]):
        return float(d.mean()), float(d.std(ddof=1)) if len(d) > 1 else math.nan, math.nan, len(d)
    return float(d.mean()), float(d.std(ddof=1)), float(stats.ttest_rel([a[s] for s in seeds],
                                                                        [b[s] for s in seeds]).pvalue), len(d)


def _groups(records: list[dict]) -> dict[tuple, dict[str, dict[int, dict]]]:
    g: dict[tuple, dict[str, dict[int, dict]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        g[(r["dataset"], r["ipc"], r["method"])][r["variant"]][r["seed"]] = r
    return g


def _method_cells(records: list[dict]) -> dict[tuple, dict[str, dict[int, dict]]]:
    """:func:`_groups` of the method cells that have a baseline (the coresets' cells are not methods)."""
    return {k: v for k, v in _groups(records).items() if k[2] != "none" and "baseline" in v}


def _held_out(grid: Grid) -> list[str]:
    """The data sets the grid evaluates on a validation split carved from train (not on the test split)."""
    return sorted(d for d, o in grid.dataset_options.items() if o.get("validation"))


def _fmt_p(p: float) -> str:
    return "" if math.isnan(p) else f"{p:.3f}"


def _fmt_delta(mean: float, std: float) -> str:
    if math.isnan(mean):
        return ""
    return f"{100 * mean:+.2f}" + ("" if math.isnan(std) else f" ± {100 * std:.2f}")


def results_table(grid: Grid, records: list[dict]) -> str:
    rows = []
    for (dataset, ipc, method), by_variant in _groups(records).items():
        base = {s: r["accuracy"] for s, r in by_variant.get(_baseline_variant(method), {}).items()}
        for variant, by_seed in by_variant.items():
            acc = np.array([r["accuracy"] for r in by_seed.values()])
            kernel = [k for k in (_kernel_accuracy(r) for r in by_seed.values()) if k is not None]
            mean_d, std_d, p, _ = (paired({s: r["accuracy"] for s, r in by_seed.items()}, base)
                                   if variant != _baseline_variant(method) else (math.nan,) * 3 + (0,))
            distill = np.mean([r["distill_s"] for r in by_seed.values()])
            scoring = [share for share in map(_scoring_share, by_seed.values()) if share is not None]
            first = next(iter(by_seed.values()))
            rows.append([dataset, ipc, method, variant, first["init"], first["sampler"],
                         f"{100 * acc.mean():.2f} ± {100 * acc.std(ddof=1) if len(acc) > 1 else 0:.2f}",
                         len(acc), _fmt_delta(mean_d, std_d), _fmt_p(p),
                         f"{100 * np.mean(kernel):.2f}" if kernel else "", f"{distill:.0f}",
                         f"{100 * np.mean(scoring):.0f} %" if scoring else ""])
    return format_table(["dataset", "ipc", "method", "variant", "init", "real batches", "acc % (mean ± std, seeds)",
                         "seeds", "Δ vs baseline (paired)", "p", "KRR acc %", "distill s", "scoring share"], rows)


def verdict_table(records: list[dict]) -> str:
    """Per method / data set / IPC: the best variant by mean accuracy, and each phase's paired Δ and p."""
    rows = []
    for (dataset, ipc, method), by_variant in _groups(records).items():
        if method == "none":
            continue
        means = {v: np.mean([r["accuracy"] for r in s.values()]) for v, s in by_variant.items()}
        best = max(means, key=means.get)
        base = {s: r["accuracy"] for s, r in by_variant.get("baseline", {}).items()}
        cells = []
        for variant in ("init", "sampling", "both"):
            if variant in by_variant and base:
                d, sd, p, n = paired({s: r["accuracy"] for s, r in by_variant[variant].items()}, base)
                cells.append(f"{_fmt_delta(d, sd)}" + (f" (p {p:.3f})" if not math.isnan(p) else f" (n={n})"))
            else:
                cells.append("")
        rows.append([method, dataset, ipc, best, f"{100 * means[best]:.2f}", *cells])
    return format_table(["method", "dataset", "ipc", "best variant", "its acc %", "+init Δ", "+sampling Δ",
                         "+both Δ"], rows)


PROTOCOL_PRESETS = ("paper", "reproduce")


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment of ``pvalues`` (family-wise error over all of them); nan stays nan and does not
    count as a test."""
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        out[i] = running
    return out


# The bar a distillation method must clear to be worth its cost (issue 19): beat the better no-learning coreset
# (random real images or herding, whichever scores higher on the same data set and IPC) by this many points, with a
# paired gain that is significant after Holm's correction over the variant's cells. Other IPCs: the IPC-10 margin.
LEARNING_MARGIN = {1: 0.03, 10: 0.01}
CORESETS = ("random", "herding")


def learning_table(records: list[dict], alpha: float = 0.05) -> str:
    """Per method variant: paired Δ against the better of the random-real and herding coresets on common seeds,
    the p-value Holm-adjusted over that variant's (method, data set, IPC) cells, and whether the bar
    (:data:`LEARNING_MARGIN`, significant) is cleared. Empty when the records hold no coreset cells."""
    groups = _groups(records)
    found = []
    for (dataset, ipc, method), by_variant in groups.items():
        coresets = {v: {s: r["accuracy"] for s, r in groups.get((dataset, ipc, "none"), {}).get(v, {}).items()}
                    for v in CORESETS}
        coresets = {v: accs for v, accs in coresets.items() if accs}
        if method == "none" or not coresets:
            continue
        best = max(coresets, key=lambda v: np.mean(list(coresets[v].values())))
        for variant, by_seed in by_variant.items():
            d, sd, p, n = paired({s: r["accuracy"] for s, r in by_seed.items()}, coresets[best])
            found.append((dataset, ipc, method, variant, best, d, sd, p, n))
    # the family of one variant: its (method, data set, IPC) cells, as the issues count the tests of a table
    adjusted = [math.nan] * len(found)
    for variant in {f[3] for f in found}:
        members = [i for i, f in enumerate(found) if f[3] == variant]
        for i, p_holm in zip(members, holm([found[i][7] for i in members])):
            adjusted[i] = p_holm
    rows = []
    for (dataset, ipc, method, variant, best, d, sd, p, n), p_holm in zip(found, adjusted):
        margin = LEARNING_MARGIN.get(ipc, LEARNING_MARGIN[10])
        cleared = d >= margin and p_holm < alpha  # False for nan (fewer than two seeds)
        rows.append([dataset, ipc, method, variant, best, n, _fmt_delta(d, sd), _fmt_p(p), _fmt_p(p_holm),
                     f"+{100 * margin:.0f}", "yes" if cleared else "no"])
    if not rows:
        return ""
    return format_table(["dataset", "ipc", "method", "variant", "better coreset", "seeds", "Δ vs it (paired)", "p",
                         "p (Holm, variant's cells)", "bar", "cleared"], rows)


# issue 18's difficulty-aligned variants are judged by this one; and against the best of these (the seed's
# phases together, and the plain representative initialization)
ALIGNED = "aligned-both"
ALIGNED_RIVALS = ("both", "herding-init")


def aligned_table(records: list[dict], alpha: float = 0.05, compact: bool = False) -> str:
    """Per (method, data set, IPC) cell: each variant's paired Δ against the baseline with its p-value
    Holm-adjusted over that variant's cells, and for ``aligned-both`` the three verdicts issue 18 asks for: no
    significant loss against the baseline, a significant gain (after the correction), and a mean at least the best
    of :data:`ALIGNED_RIVALS`; the counts follow the table. A variant whose runs are the baseline's own (the same
    resolved configuration) reads ``= baseline``; one with fewer seeds than the baseline says how many, and its
    ``aligned-both`` verdict waits (not counted) until it has the baseline's seeds, at least two. ``compact`` (a
    front page's copy): the baseline's and ``aligned-both``'s accuracy, its Δ with the Holm-adjusted p, the rivals'
    Δ and the verdicts in short (a cell short of seeds says so in the verdict column only). Empty without
    ``aligned-both`` cells."""
    groups = _method_cells(records)
    if not any(ALIGNED in v for v in groups.values()):
        return ""
    names = sorted({n for v in groups.values() for n in v if n != "baseline"},
                   key=lambda n: (n == ALIGNED, n not in ALIGNED_RIVALS, ALIGNED_RIVALS.index(n)
                                  if n in ALIGNED_RIVALS else 0, n))
    deltas: dict[str, list[tuple]] = {}
    for name in names:
        found = []
        for key, by_variant in groups.items():
            base = {s: r["accuracy"] for s, r in by_variant["baseline"].items()}
            acc = {s: r["accuracy"] for s, r in by_variant.get(name, {}).items()}
            found.append((key, *paired(acc, base)) if acc else (key, math.nan, math.nan, math.nan, 0))
        for i, p_holm in enumerate(holm([f[3] for f in found])):
            found[i] = (*found[i], p_holm)
        deltas[name] = found
    verdicts = {"no significant loss": "no loss", "significant gain": "gain", "≥ best rival": "≥ rival"}
    rows, counts = [], {**dict.fromkeys(verdicts, 0), "cells": 0}
    for i, ((dataset, ipc, method), by_variant) in enumerate(groups.items()):
        base = [r["accuracy"] for r in by_variant["baseline"].values()]
        cells = {}
        for name in names:
            _, d, sd, p, n, p_holm = deltas[name][i]
            runs = by_variant.get(name, {})
            if n and all(r.get("hash") is not None and r.get("hash") == by_variant["baseline"].get(s, {}).get("hash")
                         for s, r in runs.items()):
                cells[name] = "= baseline"
                continue
            # the front page's copy says it once, in the verdict column ("pending (n of N seeds)")
            seeds = f" [{n} of {len(base)} seeds]" if 0 < n < len(base) and not compact else ""
            # the front page's copy tests aligned-both alone; a rival there is its mean Δ
            full = not compact or name == ALIGNED
            tested = "" if math.isnan(p) or not full else (
                f" (Holm {p_holm:.3f})" if compact else f" (p {p:.3f}, Holm {p_holm:.3f})")
            cells[name] = "" if n == 0 else _fmt_delta(d, sd if full else math.nan) + tested + seeds
        verdict = ""
        _, d, _, _, n, p_holm = deltas[ALIGNED][i]
        if 0 < n and (n < len(base) or n < 2):
            verdict = f"pending ({n} of {len(base)} seeds)"
        elif n:
            counts["cells"] += 1
            means = {v: np.mean([r["accuracy"] for r in by_variant[v].values()])
                     for v in (ALIGNED, *ALIGNED_RIVALS) if v in by_variant}
            rivals = [means[v] for v in ALIGNED_RIVALS if v in means]
            flags = {"no significant loss": not (d < 0 and p_holm < alpha),
                     "significant gain": bool(d > 0 and p_holm < alpha),
                     "≥ best rival": bool(rivals) and means[ALIGNED] >= max(rivals)}
            for k, ok in flags.items():
                counts[k] += ok
            verdict = ", ".join(verdicts[k] if compact else k for k, ok in flags.items() if ok) or "none"
        if compact:
            aligned = [r["accuracy"] for r in by_variant.get(ALIGNED, {}).values()]
            rows.append([method, dataset, ipc, f"{100 * np.mean(base):.2f}",
                         f"{100 * np.mean(aligned):.2f}" if aligned else "", cells[ALIGNED],
                         *(cells[v] for v in ALIGNED_RIVALS if v in cells), verdict])
        else:
            rows.append([method, dataset, ipc, f"{100 * np.mean(base):.2f}", len(base), *cells.values(), verdict])
    if compact:
        table = format_table(["method", "dataset", "ipc", "baseline %", f"{ALIGNED} %", "Δ (Holm p)",
                              *(f"{v} Δ" for v in ALIGNED_RIVALS if v in names), "met"], rows)
    else:
        table = format_table(["method", "dataset", "ipc", "baseline acc %", "seeds",
                              *(f"{n} Δ" for n in names), f"{ALIGNED}: met"], rows)
    n = counts["cells"]
    return (table + f"\n\n{ALIGNED}, over its {n} cells with the baseline's seeds (Holm over every cell it ran in, "
            f"α = {alpha}): no significant loss against "
            f"the baseline in {counts['no significant loss']}, a significant gain in {counts['significant gain']}, "
            f"a mean at least the best of {' / '.join(ALIGNED_RIVALS)} in {counts['≥ best rival']}")


def aligned_power_table(records: list[dict], alpha: float = 0.05, gains: int | None = None) -> str:
    """What a significant gain of ``aligned-both`` takes at each finished cell's paired spread: with n seeds a
    paired t-test is significant at level a when the mean gain is at least t_{n−1}(1 − a/2) · s / √n (s the std of
    the per-seed differences). Holm over the m cells tests the k-th smallest p-value at α / (m − k + 1), so
    ``gains`` significant cells (default: half of them, issue 18's target) need the ``gains``-th at
    α / (m − gains + 1) at least. m counts the (method, data set, IPC) cells with a baseline — the family the
    verdicts are corrected over once every cell has run. A cell whose gain falls short of the column was not
    measurable with these seeds at that size, which is a different finding from no gain. Empty without finished
    ``aligned-both`` cells."""
    from scipy import stats

    groups = _method_cells(records)
    m = len(groups)
    gains = math.ceil(m / 2) if gains is None else gains
    level = alpha / (m - gains + 1) if m else alpha
    rows, met = [], 0
    for (dataset, ipc, method), by_variant in groups.items():
        base = {s: r["accuracy"] for s, r in by_variant["baseline"].items()}
        acc = {s: r["accuracy"] for s, r in by_variant.get(ALIGNED, {}).items()}
        d, sd, _, n = paired(acc, base)
        if n < 2 or n < len(base) or math.isnan(sd):
            continue
        alone, among = (float(stats.t.ppf(1 - a / 2, n - 1)) * sd / math.sqrt(n) for a in (alpha, level))
        met += d >= among
        rows.append([method, dataset, ipc, n, _fmt_delta(d, sd), f"{d / (sd / math.sqrt(n)):.2f}" if sd else "",
                     f"{100 * alone:.2f}", f"{100 * among:.2f}", "yes" if d >= among else "no"])
    if not rows:
        return ""
    table = format_table(["method", "dataset", "ipc", "seeds", f"{ALIGNED} Δ", "t", f"Δ needed alone (α = {alpha})",
                          f"Δ needed as {gains} of {m} (α/{m - gains + 1})", "reached"], rows)
    return (table + f"\n\n{ALIGNED} reaches the gain that {gains} significant cells of {m} need in {met} of its "
            f"{len(rows)} finished cells (paired t-test, two-sided; Δ in points)")


def aligned_rivals_table(records: list[dict], alpha: float = 0.05) -> str:
    """``aligned-both`` against each of :data:`ALIGNED_RIVALS` head to head: per cell, the paired Δ (``aligned-both``
    − rival) with its two-sided paired t-test, Holm-adjusted over that rival's cells, and whether ``aligned-both`` is
    significantly above, significantly below or level with it. The verdict "≥ best rival" compares means only; this
    says which of its misses (and wins) a paired test can tell from seed noise. Cells where ``aligned-both`` or a
    rival is short of the baseline's seeds are left out. Empty without such cells."""
    groups = _method_cells(records)
    found: dict[str, list[tuple]] = {name: [] for name in ALIGNED_RIVALS}
    for key, by_variant in groups.items():
        full = len(by_variant["baseline"])
        acc = {s: r["accuracy"] for s, r in by_variant.get(ALIGNED, {}).items()}
        for name in ALIGNED_RIVALS:
            rival = {s: r["accuracy"] for s, r in by_variant.get(name, {}).items()}
            if len(acc) >= max(full, 2) and len(rival) >= max(full, 2):
                found[name].append((key, *paired(acc, rival)))
    if not any(found.values()):
        return ""
    cells: dict[tuple, dict[str, str]] = defaultdict(dict)
    counts = {name: {"above": 0, "below": 0, "level": 0} for name in ALIGNED_RIVALS}
    for name, tests in found.items():
        # an untestable pair (identical differences) counts as level, with no p-value in the family
        adjusted = holm([p if not math.isnan(p) else 1.0 for *_, p, _ in tests])
        for (key, d, sd, p, _), p_holm in zip(tests, adjusted):
            side = "level" if math.isnan(p) or p_holm >= alpha else ("above" if d > 0 else "below")
            counts[name][side] += 1
            cells[key][name] = (_fmt_delta(d, sd) + ("" if math.isnan(p) else f" (p {p:.3f}, Holm {p_holm:.3f})")
                                + ("" if side == "level" else f", {side}"))
    rows = [[method, dataset, ipc, *(cells[(dataset, ipc, method)].get(n, "") for n in ALIGNED_RIVALS)]
            for (dataset, ipc, method) in groups if (dataset, ipc, method) in cells]
    table = format_table(["method", "dataset", "ipc", *(f"{ALIGNED} − {n}" for n in ALIGNED_RIVALS)], rows)
    summary = "; ".join(f"against {n} over {sum(c.values())} cells: significantly above in {c['above']}, below in "
                        f"{c['below']}, level in {c['level']}" for n, c in counts.items() if sum(c.values()))
    return (table + f"\n\n{ALIGNED} head to head (paired t-test, two-sided, Holm over each rival's cells, "
            f"α = {alpha}): " + summary)


# what a front page's copy of the reference table leaves out (the full table keeps them)
_COMPACT_DROPS = ("curve's last slope", "source")


def reference_table(grid: Grid, records: list[dict], finished_only: bool = False, compact: bool = False) -> str:
    """Published numbers (:mod:`coredistill.published`) beside ours for the same data set, method (baseline
    variant) or selection, and IPC: the gap, the iterations against the paper's and the curve's last slope.
    Ours are filled only from cells of the presets that run the papers' protocol (``paper``, ``reproduce``);
    ``finished_only`` leaves out the rows with no such cell yet; a data set the grid evaluates on a validation split
    has no rows. ``compact`` (a front page's copy) leaves out the slope and source columns and names, instead of
    describing, a published number's other evaluation."""
    from ..published import published
    from ..reproduce import HEADERS, compare

    ours: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if r["preset"] in PROTOCOL_PRESETS:
            ours[(r["dataset"], r["method"], r["variant"], r["ipc"])].append(r)
    # a selection baseline is compared with the published number of its initializer (herding-teacher: herding)
    selection = {v.name: v.init for v in (selection_variant(s, "selection") for s in grid.selection)}
    rows, notes = [], {}
    for dataset in grid.datasets:
        if dataset in _held_out(grid):
            continue  # its accuracies are on images held out of the train split: no published number measures those
        for name in list(selection) + grid.methods:
            key = ("none", name) if name in selection else (name, "baseline")
            reference = selection.get(name, name)
            for ipc in grid.ipc:
                pub = published(reference, dataset, ipc)
                got = ours.get((dataset, *key, ipc))
                if pub is not None and pub.evaluation and (got or not finished_only):
                    notes[name] = pub.evaluation
                if got:
                    accs = [a for r in got for a in r["accuracies"]]
                    rows.append(compare(name, dataset, ipc, got[0]["preset"], accs, got[0]["iterations"],
                                        got[0]["curve"], published_as=reference).row() + [str(len(got))])
                elif pub is not None and not finished_only:
                    rows.append([name, dataset, str(ipc), "— (no run under the papers' protocol yet)",
                                 f"{pub.accuracy:g}", "—", "—", "—", pub.source, "0"])
    if not rows:
        return ""
    headers = [*HEADERS, "seeds"]
    if compact:
        keep = [i for i, h in enumerate(headers) if h not in _COMPACT_DROPS]
        headers, rows = [headers[i] for i in keep], [[row[i] for i in keep] for row in rows]
        footer = "".join(f"\n\n{m}: the published number is under {m}'s own evaluation, not this protocol "
                         "(reference.md says which)." for m in sorted(notes))
        return "published vs ours (ConvNet-3; every eval net of every seed, mean ± std)\n\n" + format_table(
            headers, rows) + footer
    footer = "".join(f"\n\n{m}: the published number is {evaluation}." for m, evaluation in sorted(notes.items()))
    return ("published vs ours (ConvNet-3; ours: every eval net of every seed of the `paper`/`reproduce` cells, "
            "mean ± std; curve from the first seed)\n\n" + format_table(headers, rows) + footer)


def sampler_table(records: list[dict]) -> str:
    """Importance diagnostics of the cells whose run sampled its own batches (``refreshes`` recorded; MTT's
    sampler acts while the expert buffer is built and is not in its cells): mean over refreshes and seeds."""
    rows = []
    for (dataset, ipc, method), by_variant in _groups(records).items():
        base = {s: r["accuracy"] for s, r in by_variant.get("baseline", {}).items()}
        for variant, by_seed in by_variant.items():
            refreshes = [h for r in by_seed.values() for h in r.get("refreshes", [])]
            if not refreshes:
                continue
            d, sd, p, _ = paired({s: r["accuracy"] for s, r in by_seed.items()}, base)
            first, last = min(h["iteration"] for h in refreshes), max(h["iteration"] for h in refreshes)
            rows.append([method, dataset, ipc, variant, len(refreshes) // len(by_seed), f"{first}–{last}",
                         f"{np.mean([h['entropy_ratio'] for h in refreshes]):.3f}",
                         f"{np.mean([h['mass90'] for h in refreshes]):.3f}", _fmt_delta(d, sd), _fmt_p(p)])
    if not rows:
        return ""
    return format_table(["method", "dataset", "ipc", "variant", "refreshes per run", "at iterations",
                         "entropy / log(pool) (1 = uniform)", "pool fraction with 90 % of p",
                         "Δ vs baseline (paired)", "p"], rows)


def _reach(curve: list[dict], target: float) -> int | None:
    return next((c["iteration"] for c in curve if c["accuracy"] >= target), None)


def cost_table(records: list[dict]) -> str:
    by_method: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_method[r["method"]].append(r)
    groups = _groups(records)
    rows = []
    for method, recs in by_method.items():
        if method == "none":
            continue
        init = [r["select_s"] / (r["select_s"] + r["distill_s"]) for r in recs
                if r["variant"] in ("init", "both") and r["select_s"] + r["distill_s"] > 0]
        scoring = [r["scoring_s"] / r["distill_s"] for r in recs
                   if r["variant"] in ("sampling", "both") and r["distill_s"] > 0 and r["scoring_s"]]
        # one build time per buffer (cells sharing a buffer report the same one)
        experts = {json.dumps(r["config"]["experts"], sort_keys=True): r["experts_build_s"] for r in recs
                   if r.get("experts_build_s")}
        reach, own = [], []  # own: the baseline's curve against its own final accuracy — the noise floor
        for (_, _, m), by_variant in groups.items():
            if m != method:
                continue
            for seed, both in by_variant.get("both", {}).items():
                base = by_variant.get("baseline", {}).get(seed)
                if base and len(both["curve"]) > 1:
                    it = _reach(both["curve"], base["accuracy"])
                    reach.append(f"{it}/{both['iterations']}" if it is not None else "never")
                    if len(base["curve"]) > 1:
                        own.append(f"{_reach(base['curve'], base['accuracy'])}/{base['iterations']}")
        rows.append([method, f"{100 * np.mean(init):.1f} %" if init else "",
                     f"{100 * np.mean(scoring):.1f} %" if scoring else "",
                     " / ".join(f"{s:.0f}" for s in experts.values()) if experts else "",
                     ", ".join(reach) if reach else "no curves", ", ".join(own)])
    return format_table(["method", "selection share (init, both)", "scoring share (sampling, both)",
                         "expert buffers: build s", "both reaches baseline's final acc at iteration (per cell)",
                         "baseline reaches its own final acc at"], rows)


def variant_cost_table(records: list[dict]) -> str:
    """Per method and variant (those that select, score or prune): the share of a run each extra step takes.
    Selection share is of selection + distillation (a feature teacher's training included: it is trained per run
    seed, by the first run of that seed, and cached); scoring share of distillation, the sampler's re-scorings with
    its predictor's fits — except a teacher predictor's first fit, which trains the teacher once per data set
    (later runs load it from the cache, like an expert buffer). The teacher's build is the largest such first fit
    seen, or a feature teacher's features step (its training when not cached; recorded since ``features_s`` was),
    as for pruning."""
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if r["method"] != "none" and r["variant"] != "baseline":
            by[(r["method"], r["variant"])].append(r)
    rows = []
    for (method, variant), recs in by.items():
        select = [r["select_s"] / (r["select_s"] + r["distill_s"]) for r in recs
                  if r.get("init", "random") != "random" and r["select_s"] + r["distill_s"] > 0]
        scoring = [share for share in map(_scoring_share, recs) if share is not None]
        fits = [build for build in map(_teacher_build_s, recs) if build] + [
            r["features_s"] for r in recs if r.get("features_s") and _feature_space(r) == "teacher"]
        prune = [r["prune_s"] for r in recs if r.get("prune_s")]
        if not (select or scoring or prune):
            continue
        rows.append([method, variant, len(recs), f"{100 * np.mean(select):.1f} %" if select else "",
                     f"{100 * np.mean(scoring):.1f} %" if scoring else "",
                     f"{max(fits):.0f}" if fits else "", f"{max(prune):.0f}" if prune else ""])
    if not rows:
        return ""
    return format_table(["method", "variant", "cells", "selection share", "scoring share of distillation",
                         "teacher build s (max)", "pruning s (max)"], rows)


def _feature_space(record: dict) -> str | None:
    """The name of the feature space a cell selected in (None: the initializer's default)."""
    features = (record.get("config") or {}).get("features")
    return features[0] if features else None


def _scoring_share(record: dict) -> float | None:
    """The sampler's re-scorings as a share of distillation, a teacher's one-off build left out of both (it is
    the teacher's cost, reported as such); None for a run that scored nothing."""
    build = _teacher_build_s(record)
    if not record.get("scoring_s") or record["distill_s"] - build <= 0:
        return None
    return (record["scoring_s"] - build) / (record["distill_s"] - build)


def _teacher_build_s(record: dict) -> float:
    """The seconds a teacher predictor's first fit took (its training, or a load from the cache); 0 for a
    predictor fitted anew at every refresh (the synthetic set's proxy), whose fits are all scoring."""
    options = (record.get("config") or {}).get("sampler_options") or {}
    first = (record.get("refreshes") or [{}])[0]
    if options.get("predictor") != "teacher" or first.get("fit_s") is None:
        return 0.0
    return float(first["fit_s"])


def _core_seconds(record: dict) -> float:
    """A finished cell's cost: its CPU seconds where recorded (older records: wall seconds × threads, which
    counts the time it waited for a core on a shared machine)."""
    return record["cpu_s"] if record.get("cpu_s") is not None else record["wall_s"] * record.get("threads", 1)


def _core_seconds_by_method_ipc(grid: Grid, done: dict[str, dict]) -> dict[tuple, list[float]]:
    cost: dict[tuple, list[float]] = defaultdict(list)
    for r in _current(grid, done):
        cost[(r["method"], r["ipc"])].append(_core_seconds(r))
    return cost


def remaining_estimate(grid: Grid, done: dict[str, dict]) -> str:
    """How much of the grid is left, in core-hours estimated from finished cells of the same method and IPC;
    cells with no finished sibling are counted apart."""
    cost = _core_seconds_by_method_ipc(grid, done)
    left = [c for c in grid.cells() if c.hash not in done]
    known = [np.mean(cost[(c.method, c.ipc)]) for c in left if (c.method, c.ipc) in cost]
    unknown = len(left) - len(known)
    spent = sum(sum(v) for v in cost.values())
    return (f"{len(grid.cells()) - len(left)} of {len(grid.cells())} cells finished ({spent / 3600:.1f} core-hours "
            f"spent: CPU time where recorded, else wall × threads); {len(left)} left, estimated "
            f"{sum(known) / 3600:.1f} core-hours for {len(known)} of them from finished cells of the same method "
            f"and IPC" + (f" ({unknown} with no finished cell of their method and IPC to estimate from)"
                          if unknown else "") + "; expert buffers are not included")


def spent_table(grid: Grid, done: dict[str, dict]) -> str:
    """What the grid's finished cells cost, per method and IPC: the budget's evidence (expert buffers apart)."""
    cells: dict[tuple, int] = defaultdict(int)
    for c in grid.cells():
        cells[(c.method, c.ipc)] += 1
    cost = _core_seconds_by_method_ipc(grid, done)
    measured: dict[tuple, int] = defaultdict(int)
    for r in _current(grid, done):
        measured[(r["method"], r["ipc"])] += r.get("cpu_s") is not None
    rows = []
    for key, total in cells.items():
        seconds = cost.get(key, [])
        rows.append([*key, f"{len(seconds)} / {total}", f"{sum(seconds) / 3600:.2f}",
                     f"{np.mean(seconds):.0f}" if seconds else "",
                     f"{measured[key]} CPU, {len(seconds) - measured[key]} wall × threads" if seconds else ""])
    return format_table(["method", "ipc", "cells finished", "core-hours", "core-s per cell", "measured as"], rows)


def plot_accuracy(grid: Grid, records: list[dict], path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(r["dataset"], r["ipc"]) for r in records}, key=lambda k: (grid.datasets.index(k[0]), k[1]))
    if not panels:
        return None
    groups = _groups(records)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    variants = list(dict.fromkeys(grid.selection_names() + grid.variant_names()))
    for ax, (dataset, ipc) in zip(axes[0], panels):
        methods = [m for m in (["none"] if grid.selection else []) + grid.methods if (dataset, ipc, m) in groups]
        width = 0.8 / max(len(variants), 1)
        for j, v in enumerate(variants):
            xs, ys, es = [], [], []
            for i, m in enumerate(methods):
                s = groups[(dataset, ipc, m)].get(v)
                if s:
                    acc = np.array([r["accuracy"] for r in s.values()]) * 100
                    xs.append(i + (j - (len(variants) - 1) / 2) * width)
                    ys.append(acc.mean())
                    es.append(acc.std(ddof=1) if len(acc) > 1 else 0)
            if xs:
                ax.bar(xs, ys, width, yerr=es, capsize=2, label=v)
        ax.set_xticks(range(len(methods)), ["selection" if m == "none" else m for m in methods])
        ax.set_title(f"{dataset}, IPC {ipc}")
        ax.set_ylabel("test accuracy % (mean ± std over seeds)")
        lo = min(r["accuracy"] for r in records if (r["dataset"], r["ipc"]) == (dataset, ipc)) * 100
        ax.set_ylim(max(0, lo - 10), None)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(grid: Grid, records: list[dict], path: Path) -> Path | None:
    curved = [r for r in records if len(r["curve"]) > 1]
    if not curved:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(r["dataset"], r["ipc"]) for r in curved}, key=lambda k: (grid.datasets.index(k[0]), k[1]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (dataset, ipc) in zip(axes[0], panels):
        lines: dict[tuple, list] = defaultdict(list)
        for r in curved:
            if (r["dataset"], r["ipc"]) == (dataset, ipc):
                lines[(r["method"], r["variant"])].append(r["curve"])
        for (method, variant), curves in sorted(lines.items()):
            its = [c["iteration"] for c in curves[0]]
            acc = np.mean([[c["accuracy"] for c in cv] for cv in curves if len(cv) == len(its)], axis=0) * 100
            ax.plot(its, acc, marker=".", ls="-" if variant == "baseline" else "--", label=f"{method}/{variant}")
        ax.set_title(f"{dataset}, IPC {ipc} (mean over seeds)")
        ax.set_xlabel("iteration")
        ax.set_ylabel("test accuracy %")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


_OPTIONAL_TABLES = {"learning": learning_table, "aligned": aligned_table,
                    "aligned-headline": lambda records: aligned_table(records, compact=True),
                    "aligned-power": aligned_power_table, "aligned-rivals": aligned_rivals_table,
                    "sampler": sampler_table}


def write_report(grid: Grid, done: dict[str, dict], out: str | Path, plots: bool = True) -> dict[str, Path]:
    """Write results.csv, results.md, verdict.md, cost.md (learning.md, aligned.md, aligned-headline.md,
    aligned-power.md, aligned-rivals.md, sampler.md, accuracy.png and curves.png where there is something to show,
    reference.md for a grid under the papers' protocol) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = _current(grid, done)
    files = {"csv": out / "results.csv", "results": out / "results.md", "verdict": out / "verdict.md",
             "cost": out / "cost.md"}
    write_text(files["csv"], results_csv(records))
    held_out = _held_out(grid)
    split = (f"held-out validation accuracy ({', '.join(held_out)}: images held out of the train split; the test "
             "split is not read)" if held_out else "test accuracy")
    header = (f"grid `{grid.name}`, preset `{grid.preset}`: {len(records)} of {len(grid.cells())} cells finished; "
              f"final-epoch {split} of the preset's eval nets\n\n")
    write_text(files["results"], header + results_table(grid, records) + "\n")
    write_text(files["verdict"], verdict_table(records) + "\n")
    by_variant = variant_cost_table(records)
    write_text(files["cost"], cost_table(records) + "\n\n" + (by_variant + "\n\n" if by_variant else "")
                  + remaining_estimate(grid, done) + "\n\n" + spent_table(grid, done) + "\n")
    # only a grid under the papers' protocol is comparable with the published numbers; "reproduced" holds the rows
    # that have a run (a front page's table)
    reference = reference_table(grid, records) if grid.preset in PROTOCOL_PRESETS else ""
    tables = {**_OPTIONAL_TABLES, "reference": lambda records: reference,
              "reproduced": lambda records: (reference_table(grid, records, finished_only=True, compact=True)
                                             if reference else "")}
    for name, table in tables.items():  # written where the records have something to show
        text, path = table(records), out / f"{name}.md"
        if text:
            files[name] = path
            write_text(path, text + "\n")
        else:  # an earlier report's table that says nothing now (or was never this grid's) would mislead
            path.unlink(missing_ok=True)
    if plots and records:
        for name, fn in (("accuracy", plot_accuracy), ("curves", plot_curves)):
            p = fn(grid, records, out / f"{name}.png")
            if p is not None:
                files[name] = p
    return files
