"""The source revision a run records: the commit of the checkout the package is imported from, marked dirty when
its sources differ from that commit, and nothing outside a checkout."""
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from coredistill import _version
from coredistill.artifacts import environment

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"version_copy_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def _package(root: Path) -> Path:
    pkg = root / "src" / "pkg"
    pkg.mkdir(parents=True)
    shutil.copy(_version.__file__, pkg / "_version.py")
    return pkg / "_version.py"


def test_a_checkout_names_its_commit_and_a_changed_source_is_dirty(tmp_path):
    module = _package(tmp_path)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert _load(module).source_revision() == head
    (tmp_path / "README").write_text("outside src: not the code that runs\n")
    assert _load(module).source_revision() == head
    (module.parent / "extra.py").write_text("x = 1\n")
    assert _load(module).source_revision() == head + "+dirty"


def test_outside_a_checkout_there_is_no_revision(tmp_path):
    assert _load(_package(tmp_path)).source_revision() is None


def test_runs_record_the_revision_of_the_code_they_ran():
    assert environment()["source"] == _version.source_revision()
