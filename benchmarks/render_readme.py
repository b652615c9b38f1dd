"""Put committed benchmark tables into README.md between markers, so the README's numbers are never typed by hand.

    <!-- table: benchmarks/results/method_accuracy_cpu/summary_methods.md -->
    ...replaced by that file's contents...
    <!-- /table -->

    python benchmarks/render_readme.py          # rewrite README.md in place; --check fails if it is stale
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", default="README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README differs from the rendered one")
    args = ap.parse_args()
    path = Path(args.readme)
    new = render(path.read_text(), path.parent)
    if args.check:
        sys.exit(0 if new == path.read_text() else 1)
    path.write_text(new)


if __name__ == "__main__":
    main()
