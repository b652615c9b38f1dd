"""Writes a crash cannot tear: a folder written through ``atomic_dir`` appears whole or not at all."""
import pytest

from coredistill.atomic import atomic_dir


def test_a_folder_appears_whole_and_replaces_the_old_one(tmp_path):
    target = tmp_path / "set"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
        assert not target.exists() and tmp.name.startswith(".set.tmp-")  # the name recovery looks for
    assert (target / "a.txt").read_text() == "1"
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]  # replaced whole, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_an_error_while_writing_leaves_the_old_folder_and_no_temporary_one(tmp_path):
    target = tmp_path / "set"
    target.mkdir()
    (target / "old.txt").write_text("kept")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_dir(target) as tmp:
            (tmp / "half.txt").write_text("x")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
