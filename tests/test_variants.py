"""Named variants: one definition read by grids, ``distill(variant=...)`` and the CLI."""
from pathlib import Path

import pytest

import coredistill as cd
from coredistill.bench import Grid
from coredistill.config import RunConfig
from coredistill.errors import InvalidParameterError
from coredistill.methods import METHODS
from coredistill.variants import (SEED_SAMPLER, SEED_VARIANTS, VARIANTS, Variant, get_variant, list_variants,
                                  register_variant)

ROOT = Path(__file__).resolve().parents[1]
# the methods that validated their batches (sampler "aligned" refuses the others by name)
ALIGNED_METHODS = [m for m in METHODS.names() if getattr(METHODS.get(m), "aligned_sampling", None)]


@pytest.mark.parametrize("name", list_variants())
@pytest.mark.parametrize("method", ALIGNED_METHODS)
@pytest.mark.parametrize("ipc", [1, 10])
def test_every_variant_resolves_for_every_method_that_validated_its_batches(name, method, ipc):
    variant = get_variant(name)
    run = RunConfig.resolve("mnist", ipc, method=method, preset="cpu", **variant.settings(method))
    assert run.init == variant.initializer(method)
    assert run.prune == variant.prune and run.features == variant.features
    asked = variant.settings(method)["sampler"]  # "aligned" resolves to the batches the method validated
    assert run.real_data_sampler == asked or (asked == "aligned" and run.real_data_sampler in ("relative-loss",
                                                                                               "uniform"))


def test_the_seed_variants_are_a_grids_default_and_draw_by_the_grids_sampler():
    grid = Grid.from_dict({"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm"], "sampler": "representative"})
    assert [c.variant for c in grid.cells()] == list(SEED_VARIANTS)
    assert [c.sampler for c in grid.cells()] == ["uniform", "uniform", "representative", "representative"]
    assert get_variant("both").settings("dm")["sampler"] == SEED_SAMPLER == "relative-loss"
    assert get_variant("both").settings("kip")["init"] == "kernel-leverage"


@pytest.mark.parametrize("name", ["both", "herding-init", "aligned-sampling", "aligned-both"])
def test_a_run_of_a_named_variant_is_the_final_grids_cell_of_that_name(name):
    # the final table defines these variants in its YAML (committed before it ran); a built-in of the same name
    # must be the same recipe, so that `distill(variant=...)` runs what the table measured
    grid = Grid.load(ROOT / "benchmarks" / "grids" / "aligned-final.yaml")
    entries = {Variant.from_entry(e, "variants").name: Variant.from_entry(e, "variants") for e in grid.variants}
    assert entries[name] == get_variant(name)
    for method in ("dm", "dc", "rfad"):
        cell = next(c for c in grid.cells() if (c.method, c.variant, c.dataset, c.ipc, c.seed) ==
                    (method, name, "mnist", 10, 0))
        run = RunConfig.resolve("mnist", 10, method=method, preset="cpu", seed=0, zca_eps=grid.zca.get(method),
                                num_experts=grid.experts["num_experts"], **get_variant(name).settings(method))
        assert run.hash == cell.hash


def test_given_settings_must_agree_with_the_variant_and_options_merge_over_its_own():
    variant = get_variant("aligned-both")
    with pytest.raises(InvalidParameterError, match=r"init='herding': expected 'kmeans-coreset' \(variant "
                                                    r"'aligned-both' sets it\)"):
        variant.apply("dm", {"init": "herding"})
    with pytest.raises(InvalidParameterError, match="prune=0.2"):
        variant.apply("dm", {"prune": 0.2})
    with pytest.raises(InvalidParameterError, match=r"features='teacher': expected no value \(variant 'herding-init'"):
        get_variant("herding-init").apply("dm", {"features": "teacher"})
    with pytest.raises(InvalidParameterError, match="init_options='m=50': expected a mapping"):
        variant.apply("dm", {"init_options": "m=50"})
    settings = variant.apply("dm", {"init": "kmeans-coreset", "feature_options": {"epochs": 3},
                                    "init_options": {"m": 50}, "sampler": None})
    assert settings["init"] == "kmeans-coreset" and settings["sampler"] == "aligned"
    assert settings["feature_options"] == {"width": 32, "epochs": 3} and settings["init_options"] == {"m": 50}
    assert get_variant("aligned-both").feature_options == {"width": 32}  # the registered entry is not changed


def test_distill_with_a_variant_runs_its_settings_and_records_its_name():
    ds = cd.load_dataset("digits")
    named = cd.distill(ds, ipc=1, method="dm", variant="herding-init", preset="tiny", iterations=2,
                       evaluate_with=(), progress=False)
    spelled = cd.distill(ds, ipc=1, method="dm", init="herding", preset="tiny", iterations=2, evaluate_with=(),
                         progress=False)
    assert named.manifest["run"]["variant"] == "herding-init" and "variant" not in spelled.manifest["run"]
    assert named.manifest["run"]["hash"] == spelled.manifest["run"]["hash"]  # recorded, not part of the identity
    assert named.images.equal(spelled.images)
    with pytest.raises(InvalidParameterError, match="variant='nope': expected one of: baseline, init"):
        cd.distill(ds, ipc=1, method="dm", variant="nope", preset="tiny", evaluate_with=(), progress=False)


def test_a_registered_variant_is_checked_and_named_once():
    with pytest.raises(InvalidParameterError, match="init='no-such-init'"):
        register_variant(Variant("broken", "no-such-init"))
    with pytest.raises(ValueError, match="already registered"):
        register_variant(Variant("baseline"))
    assert "broken" not in VARIANTS
