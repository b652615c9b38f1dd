import importlib.util
import os
from pathlib import Path

import pytest

from coredistill.data import SOURCES, load_dataset


def _require(name: str):
    if not SOURCES.get(name).available():
        if os.environ.get("COREDISTILL_REQUIRE_DATA") == "1":
            pytest.fail(f"{name} is not in place and COREDISTILL_REQUIRE_DATA=1: run `coredistill fetch {name}`")
        pytest.skip(f"{name} not fetched (run `coredistill fetch {name}`)")
    return load_dataset(name)


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_real(digits):
    """digits' train and test images in the normalized space the nets train in, with their labels."""
    from coredistill.pipeline import prepare_real

    train, test = prepare_real(digits, None)
    return train, digits.y_train, test, digits.y_test


@pytest.fixture(scope="session")
def mnist():
    return _require("mnist")


@pytest.fixture(scope="session")
def fashion_mnist():
    return _require("fashion-mnist")


@pytest.fixture(scope="session")
def benchmark_script():
    """Load a script of benchmarks/ (not a package) as a module: ``benchmark_script("aligned_rule")``."""
    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def stopped_before_the_end():
    """``stop(folder)``: a finished run's checkpoint folder as a run stopped between its last two checkpoints
    leaves it (the last iteration's checkpoint gone, the one before it the newest), so that a resume has
    iterations left to run — what the resume tests compare with the uninterrupted run."""
    from coredistill.methods.checkpoint import CHECKPOINT, PREVIOUS

    def stop(folder):
        os.replace(Path(folder) / PREVIOUS, Path(folder) / CHECKPOINT)

    return stop
