"""Where a run writes: checked before any work, one writer at a time, never a user's folder, and what a killed
save leaves is put right by the next one."""
import os
import stat
import subprocess
import sys

import pytest

from coredistill.artifacts import DistilledSet
from coredistill.cli import main
from coredistill.errors import ArtifactError
from coredistill.outputs import check_out, hold, lock_path, recover

RUN = ["distill", "--dataset", "digits", "--ipc", "1", "--preset", "tiny", "--no-eval", "--quiet"]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    path = tmp_path_factory.mktemp("a") / "art"
    assert main([*RUN, "--out", str(path)]) == 0
    return path


def test_overwrite_replaces_an_artifact_or_an_empty_folder_and_nothing_else(artifact, tmp_path, capsys):
    notes = tmp_path / "thesis"
    notes.mkdir()
    (notes / "chapter1.tex").write_text("years of work")
    assert main([*RUN, "--out", str(notes), "--overwrite"]) == 2
    assert "expected a coredistill artifact or an empty folder to replace (it holds other files: chapter1.tex" \
        in capsys.readouterr().err
    assert (notes / "chapter1.tex").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    with pytest.raises(ArtifactError, match="it is a file; nothing was removed"):
        check_out(a_file, overwrite=True)
    (tmp_path / "empty").mkdir()
    assert check_out(tmp_path / "empty", overwrite=True) == tmp_path / "empty"
    assert check_out(artifact, overwrite=True) == artifact


def test_an_unwritable_output_is_refused_before_any_work(tmp_path, capsys):
    under_a_file = tmp_path / "f"
    under_a_file.write_text("")
    assert main([*RUN, "--out", str(under_a_file / "run")]) == 2
    assert "expected a path in a folder" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(ArtifactError, match="expected a writable location"):
            check_out(ro / "run")


def test_a_second_run_on_the_same_output_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "run"
    with hold(out):
        with hold(out):  # nested holds of one process share the lock
            assert lock_path(out).read_text() == str(os.getpid())
        other = subprocess.run([sys.executable, "-m", "coredistill", *RUN, "--out", str(out)], capture_output=True,
                               text=True)
        assert other.returncode == 2 and f"held by process {os.getpid()}" in other.stderr
        assert "Traceback" not in other.stderr and not out.exists()
    assert not lock_path(out).exists()  # released and removed
    with hold(out):
        pass


def test_a_killed_replacement_is_put_right_by_the_next_save(artifact, tmp_path):
    target = tmp_path / "run"
    DistilledSet.load(artifact).save(target)
    # a kill between the two renames of a replacement: the old artifact moved aside, the new one not in place
    aside = tmp_path / ".run.old-x1"
    aside.mkdir()
    os.replace(target, aside / "run")
    torn = tmp_path / ".run.tmp-x2"
    torn.mkdir()
    (torn / "manifest.json").write_text("{")
    with hold(target):
        done = recover(target)
    assert any("restored" in d for d in done) and DistilledSet.load(target).manifest["ipc"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_artifacts_and_exports_follow_the_umask(artifact, tmp_path):
    old = os.umask(0o022)
    try:
        saved = DistilledSet.load(artifact).save(tmp_path / "run")
        [exported] = DistilledSet.load(artifact).export(tmp_path / "set.pt")
        folder = DistilledSet.load(artifact).export(tmp_path / "mtt", "mtt")[0].parent
    finally:
        os.umask(old)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o755
    assert stat.S_IMODE((saved / "manifest.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(exported.stat().st_mode) == 0o644
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert {stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()} == {0o644}
    with pytest.raises(ArtifactError, match="expected a file path for the dc layout"):
        DistilledSet.load(artifact).export(tmp_path / "run", overwrite=True)
