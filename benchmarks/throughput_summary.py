"""The README's throughput table, from the committed evaluation tables of ``benchmarks/throughput.py``.

One row per (IPC, width): the papers' loop (one net after another, one optimizer step at a time) and ours (what
``ensemble="auto"`` picks) as the projected CPU seconds of one cpu-preset evaluation, with and without DSA, and
the speed-up. Each source file's machine line and command are cited below the table.

    python benchmarks/throughput_summary.py      # writes benchmarks/results/throughput/summary.md
"""
from __future__ import annotations

import re
from pathlib import Path

from coredistill.table import format_table

FOLDER = Path(__file__).resolve().parent / "results" / "throughput"
SOURCES = ("eval_w32_cpu_1thread.md", "eval_w128_cpu_1thread.md")
PICK = re.compile(r"IPC (\d+), width (\d+): (ensembled|sequential)")


def rows_of(text: str) -> list[dict[str, str]]:
    """The markdown table of one evaluation run, as dicts keyed by its header."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def summarize(texts: list[str]) -> list[list[str]]:
    out = []
    for text in texts:
        picks = {(int(i), int(w)): f"ours {how}" for i, w, how in PICK.findall(text)}
        seconds: dict[tuple[int, int, str, str], float] = {}
        for r in rows_of(text):
            seconds[int(r["ipc"]), int(r["width"]), r["dsa"], r["variant"]] = float(r["cpu-preset eval s (projected)"])
        for (ipc, width), ours in sorted(picks.items()):
            row = [str(ipc), str(width)]
            for dsa in ("off", "on"):
                base, mine = seconds[ipc, width, dsa, "papers' loop"], seconds[ipc, width, dsa, ours]
                row += [f"{base:.0f}", f"{mine:.0f}", f"{base / mine:.2f}x"]
            row.append(ours.removeprefix("ours "))
            out.append(row)
    return out


def main() -> None:
    texts = [(FOLDER / name).read_text() for name in SOURCES]
    header = ["ipc", "width", "papers' loop s", "ours s", "speed-up", "papers' loop s (DSA)", "ours s (DSA)",
              "speed-up (DSA)", "ensemble='auto' runs"]
    table = format_table(header, summarize(texts))
    sources = ", ".join(f"`{name}`" for name in SOURCES)
    (FOLDER / "summary.md").write_text(
        "One evaluation of the cpu preset (3 eval nets, 300 epochs, 10,000 test images): projected seconds on one "
        "thread, measured side by side in one run per width.\n\n" + table + "\n\n"
        f"From {sources} in benchmarks/results/throughput/ (each file's first line: the machine and its command).\n")
    print(table)


if __name__ == "__main__":
    main()
