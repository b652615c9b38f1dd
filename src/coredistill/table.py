"""Plain-text tables for the CLI (GitHub-flavoured markdown, so they paste into issues and READMEs)."""
from __future__ import annotations

from typing import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def parse_table(markdown: str) -> list[dict[str, str]]:
    """The rows of the first table in ``markdown`` as ``{header: cell}``, padding stripped (the inverse of
    :func:`format_table`, for reading a report's numbers back rather than its layout).

    >>> parse_table(format_table(["method", "acc %"], [["dm", "84.27"], ["dc", "73.88"]]))
    [{'method': 'dm', 'acc %': '84.27'}, {'method': 'dc', 'acc %': '73.88'}]
    """
    lines = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    return [dict(zip(cells[0], row)) for row in cells[2:]]


def pct(mean: float, std: float) -> str:
    return f"{100 * mean:.2f} ± {100 * std:.2f}"
