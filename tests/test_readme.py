"""Published tables are rendered from the committed benchmark files, never typed by hand; the README stays a front door."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_document_tables_match_the_committed_results(benchmark_script):
    module = benchmark_script("render_readme")
    for name in module.DOCUMENTS:
        text = (ROOT / name).read_text()
        assert "<!-- table: " in text, name
        assert module.render(text, ROOT) == text, f"{name} is stale: run python benchmarks/render_readme.py"


def test_readme_is_a_front_door_whose_links_stay_in_the_repository():
    import re

    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 15 * 1024
    for name in ("README.md", "docs/guide.md", "docs/results.md", "docs/throughput.md"):
        for target in re.findall(r"\]\(([^)#]+)\)", (ROOT / name).read_text()):
            assert not target.startswith(("http", "..")), (name, target)
            assert ((ROOT / name).parent / target).exists(), (name, target)


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_to_a_section_name_a_heading_of_the_page_they_point_to():
    import re

    assert _github_anchor("The final table (test split, 5 seeds; `run_grids.sh x`)") == \
        "the-final-table-test-split-5-seeds-run_gridssh-x"

    def anchors(page):
        return {_github_anchor(h) for h in re.findall(r"^#{1,6} (.*)$", page.read_text(), flags=re.M)}

    for name in ("README.md", "docs/guide.md", "docs/results.md", "docs/throughput.md"):
        for page, target in re.findall(r"\]\(([^)#]*)#([^)]+)\)", (ROOT / name).read_text()):
            assert target in anchors((ROOT / name).parent / page if page else ROOT / name), (name, page, target)
