"""The prepared GPU script runs its cells in order within its budget and keeps each cell's table and manifest
(checked on the CPU with the tiny preset and digits; on a lent GPU it runs the paper preset on MNIST)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # two reproduce cells, end to end
def test_the_device_script_keeps_each_cells_table_and_manifest(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PRESET": "tiny", "DATASET": "digits",
           "PYTHON": sys.executable, "RUNS": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    (tmp_path / "out").mkdir()
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "device_paper_check.sh"), "300", "dm:1", "kip:1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    summary = (out / "summary.txt").read_text().splitlines()
    assert [line.split(":")[0] for line in summary] == ["dm", "kip"] and all("exit 0" in s for s in summary)
    for method in ("dm", "kip"):
        assert f"| {method} " in (out / f"{method}-digits-ipc1.log").read_text()  # ours vs published, printed
        manifest = json.loads((out / f"{method}-digits-ipc1.manifest.json").read_text())
        assert manifest["method"]["name"] == method and manifest["preset"]["name"] == "tiny"
    assert (out / "gpu.txt").read_text().count("torch") == 1


def test_a_spent_budget_runs_no_further_cell(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "PRESET": "tiny", "DATASET": "digits", "PYTHON": sys.executable,
           "RUNS": str(tmp_path / "runs")}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "device_paper_check.sh"), "10", "dm:1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and (tmp_path / "summary.txt").read_text() == "dm:1: not run (budget spent)\n"
