"""Put committed benchmark tables into README.md and docs/ between markers, so no published number is typed by hand.

    <!-- table: benchmarks/results/cpu/results.md -->
    ...replaced by that file's contents...
    <!-- /table -->

    python benchmarks/render_readme.py          # rewrite the documents in place; --check fails if one is stale

Table paths are relative to the repository root, whichever document holds them.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

BLOCK = re.compile(r"(<!-- table: (?P<path>[^ ]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def render(text: str, root: Path) -> str:
    def fill(m: re.Match) -> str:
        body = (root / m["path"]).read_text().strip() + "\n"
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(fill, text)


ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "docs/guide.md", "docs/results.md", "docs/throughput.md")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if a document differs from its rendered form")
    args = ap.parse_args()
    stale = []
    for name in DOCUMENTS:
        path = ROOT / name
        new = render(path.read_text(), ROOT)
        if new != path.read_text():
            stale.append(name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        sys.exit(f"stale: {', '.join(stale)}")


if __name__ == "__main__":
    main()
