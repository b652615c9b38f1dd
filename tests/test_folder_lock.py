"""One writer per folder: a second writer is refused naming the holder; the lock dies with its process."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from coredistill.errors import InvalidParameterError
from coredistill.folder_lock import LOCK, exclusive


def test_a_second_writer_is_refused_naming_the_parameter_the_folder_and_the_holder(tmp_path):
    with exclusive(tmp_path / "out", "out") as folder:
        assert folder.is_dir()
        with pytest.raises(InvalidParameterError, match=rf"out='{tmp_path / 'out'}'.*process {os.getpid()} "):
            with exclusive(tmp_path / "out", "out"):
                pass
        with exclusive(tmp_path / "other", "out"):  # another folder is another lock
            pass
    with exclusive(tmp_path / "out", "out"):  # released when the block ends
        pass


def test_an_error_inside_the_block_releases_the_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with exclusive(tmp_path, "out"):
            raise RuntimeError("the run failed")
    with exclusive(tmp_path, "out"):
        pass


def test_a_killed_holder_leaves_the_folder_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from coredistill.folder_lock import exclusive
        with exclusive({str(tmp_path)!r}, "out"):
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InvalidParameterError, match=rf"process {holder.pid} "):
            with exclusive(tmp_path, "out"):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert (tmp_path / LOCK).exists()  # the file stays; the lock on it went with the process
    with exclusive(tmp_path, "out"):
        pass
