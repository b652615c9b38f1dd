"""The README's result tables are rendered from the committed benchmark files, never typed by hand."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tables_match_the_committed_results():
    spec = importlib.util.spec_from_file_location("render_readme", ROOT / "benchmarks" / "render_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "README.md").read_text()
    assert "<!-- table: " in text
    assert module.render(text, ROOT) == text, "README is stale: run python benchmarks/render_readme.py"
