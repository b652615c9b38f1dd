"""docs/extending.md is a working extension: its code runs, and the registries' generated contract tests pass
for its method, initializer and sampler (registered in a fresh process, so the rest of the suite never sees
them)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "extending.md").read_text(), flags=re.S)
CONTRACTS = ["tests/methods/test_contract.py", "tests/select/test_registry_api.py", "tests/sampling/test_contract.py"]
USE = '''
def test_use(capsys):
{code}
    assert 0.1 < float(capsys.readouterr().out.strip()) <= 1.0  # above chance (10 classes)
'''


def test_the_page_has_the_three_entries_and_their_use():
    assert len(BLOCKS) == 4
    assert all(re.search(rf"@{family}\.decorator", code) for family, code in
               zip(("METHODS", "INITIALIZERS", "SAMPLERS"), BLOCKS[:3]))


@pytest.mark.slow
def test_the_pages_code_runs_and_its_entries_pass_the_generated_contract_tests(tmp_path):
    (tmp_path / "toy_entries.py").write_text("\n".join(BLOCKS[:3]))
    use = tmp_path / "test_use_toy_entries.py"
    use.write_text(USE.format(code="\n".join("    " + line for line in BLOCKS[3].splitlines())))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "toy_entries", "-p", "no:cacheprovider",
                          str(use), *CONTRACTS, "-k", "test_use or mean-match or closest-to-mean or epochs"],
                         env=env, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    # presets x (settings, one iteration) + the initializer's and the sampler's contracts + the page's use
    assert int(re.search(r"(\d+) passed", run.stdout).group(1)) >= 3 * 2 + 5 + 4 + 1
