"""Grid files: validation with clear errors, the variant → (initializer, sampler) mapping, cell hashes."""
from pathlib import Path

import pytest

from coredistill.bench import Grid
from coredistill.errors import InvalidParameterError
from coredistill.presets import get_preset

GRIDS = Path(__file__).resolve().parents[2] / "benchmarks" / "grids"
BASE = {"name": "g", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0]}


@pytest.mark.parametrize("path", sorted(GRIDS.glob("*.yaml")), ids=lambda p: p.stem)
def test_checked_in_grids_load_and_expand(path):
    grid = Grid.load(path)
    cells = grid.cells()
    assert grid.name == path.stem and cells
    by_hash = {}
    for c in cells:  # one key per run: variants that resolve to the same run (sampler="aligned") share it
        assert by_hash.setdefault(c.hash, c.run.identity()) == c.run.identity()
    assert len({(c.variant, c.method, c.dataset, c.ipc, c.seed) for c in cells}) == len(cells)


def test_the_committed_queue_names_grids_and_cells_that_exist():
    """benchmarks/queue is what the next session runs unattended: a misspelt grid or filter there would only show in
    a log hours later."""
    entries = [line for line in (GRIDS.parent / "queue").read_text().splitlines() if line and not line.startswith("#")]
    assert entries
    for entry in entries:
        name, _, filters = entry.partition(":")
        cells = Grid.load(GRIDS / f"{name}.yaml").cells()
        wanted: dict[str, set[str]] = {}
        for pair in filter(None, filters.split(",")):
            key, _, value = pair.partition("=")
            assert key in {"method", "dataset", "ipc", "variant", "seed"}, entry
            wanted.setdefault(key, set()).add(value)
        for key, values in wanted.items():
            assert values <= {str(getattr(c, key)) for c in cells}, entry
        assert any(all(str(getattr(c, k)) in v for k, v in wanted.items()) for c in cells), entry


def test_variants_map_to_each_family_seed_phases():
    grid = Grid.from_dict({**BASE, "methods": ["dm", "rfad", "mtt"]})
    by = {(c.method, c.variant): c for c in grid.cells()}
    assert (by["dm", "baseline"].init, by["dm", "baseline"].sampler) == ("random", "uniform")
    assert (by["dm", "both"].init, by["dm", "both"].sampler) == ("kmeans-sensitivity", "relative-loss")
    assert by["rfad", "init"].init == "kernel-leverage"  # KRR methods: the kernel-fitting sensitivity
    # MTT meets real data only in expert training: the importance sampler drives the experts instead
    assert by["mtt", "sampling"].sampler == "uniform" and by["mtt", "sampling"].experts.sampler == "relative-loss"
    assert by["mtt", "baseline"].experts.sampler == "uniform"
    assert by["mtt", "both"].experts.hash == by["mtt", "sampling"].experts.hash  # one buffer shared


def test_hash_follows_every_setting_that_changes_a_result():
    cell = Grid.from_dict({**BASE, "methods": ["dm"], "variants": ["sampling"]}).cells()[0]
    assert cell.hash == Grid.from_dict({**BASE, "methods": ["dm"], "variants": ["sampling"]}).cells()[0].hash
    for change in ({"method_options": {"dm": {"iterations": 7}}}, {"sampler_options": {"relative-loss": {"pool": 9}}},
                   {"preset": "cpu"}, {"seeds": [1]}, {"eval_every": 2}):
        other = Grid.from_dict({**BASE, "methods": ["dm"], "variants": ["sampling"], **change}).cells()[0]
        assert other.hash != cell.hash, change
    # the preset's default options are resolved into the hash, not just its name
    assert cell.config["method_options"]["iterations"] == 4 and cell.config["sampler_options"] == {}


@pytest.mark.parametrize("change, match", [
    ({"variants": ["best"]}, "variants=.*best.*baseline"),
    ({"methods": ["dmm"]}, "dmm"),
    ({"selection": ["greedy"]}, "selection=.*greedy"),
    ({"ipc": [0]}, "ipc=0"),
    ({"seeds": [-1]}, "seeds=-1"),
    ({"selection": [{"name": "random", "init": "random", "seeds": []}]}, r"random.seeds=\[\]"),
    ({"selection": [{"name": "random", "init": "random", "seeds": [0, -2]}]}, "random.seeds=-2"),
    ({"selection": [{"name": "random", "init": "random", "seeds": {10: [0]}}]}, "random.seeds.10=10.*grid's ipc: 1"),
    ({"selection": [{"name": "random", "init": "random", "seeds": {1: 3}}]}, "random.seeds.1=3.*list"),
    ({"colour": 1}, "key=.*colour"),
    ({"methods": [], "selection": []}, "at least one"),
    ({"experts": {"num_experts": 0}}, "num_experts=0"),
    ({"keep_sets": "yes"}, "keep_sets='yes': expected True or False"),
])
def test_bad_grids_name_the_key(change, match):
    with pytest.raises(InvalidParameterError, match=match):
        Grid.from_dict({**BASE, "methods": ["dm"], **change})


def test_missing_required_key_and_missing_file(tmp_path):
    with pytest.raises(InvalidParameterError, match="grid.seeds=None"):
        Grid.from_dict({k: v for k, v in BASE.items() if k != "seeds"})
    with pytest.raises(InvalidParameterError, match="grid=.*nope.yaml"):
        Grid.load(tmp_path / "nope.yaml")
    # malformed YAML: where, not the parser's traceback
    (tmp_path / "broken.yaml").write_text("name: x\n  seeds: [\n")
    with pytest.raises(InvalidParameterError, match=r"grid=.*broken.yaml.*valid YAML \(.* at line 2, column 8\)"):
        Grid.load(tmp_path / "broken.yaml")


def test_named_variants_in_the_grid():
    grid = Grid.from_dict({**BASE, "methods": ["dm", "rfad"], "sampler_options": {"relative-loss": {"pool": 9}},
                           "variants": ["baseline", {"name": "smoothed", "sampler": "relative-loss",
                                                     "sampler_options": {"beta": 0.5}},
                                        {"name": "herd", "init": {"default": "herding", "rfad": "kernel-leverage"},
                                         "init_options": {}}]})
    by = {(c.method, c.variant): c for c in grid.cells()}
    assert by["dm", "smoothed"].run.sampler_options == {"pool": 9, "beta": 0.5}  # variant over grid over preset
    assert (by["dm", "herd"].init, by["rfad", "herd"].init) == ("herding", "kernel-leverage")
    assert by["dm", "herd"].sampler == "uniform"
    # a built-in variant is the same cell whether named or spelled out
    spelled = Grid.from_dict({**BASE, "methods": ["dm"], "variants": [{"name": "baseline"}]}).cells()[0]
    assert spelled.hash == by["dm", "baseline"].hash


@pytest.mark.parametrize("variant, match", [
    ({"init": "herding"}, "variants=.*name required"),
    ({"name": "x", "colour": 1}, "variants key='colour'"),
    ({"name": "x", "init": "best"}, "init='best'"),
    ({"name": "x", "init": {"dm": "herding"}}, "init=.*'default'"),
    ({"name": "x", "sampler": "loss"}, "sampler='loss'"),
])
def test_bad_named_variants(variant, match):
    with pytest.raises(InvalidParameterError, match=match):
        Grid.from_dict({**BASE, "methods": ["dm"], "variants": [variant]})


def test_selection_baselines_and_variants_can_name_their_feature_space():
    herding_teacher = {"name": "herding-teacher", "init": "herding", "features": "teacher",
                       "feature_options": {"epochs": 1, "width": 8}}
    grid = Grid.from_dict({**BASE, "methods": ["dm"], "selection": ["herding", herding_teacher],
                           "variants": ["baseline", {"name": "dream", "init": "kmeans-centroid",
                                                     "features": "teacher"}]})
    by = {(c.method, c.variant): c for c in grid.cells()}
    assert grid.selection_names() == ["herding", "herding-teacher"]
    plain, trained = by["none", "herding"], by["none", "herding-teacher"]
    assert (plain.init, plain.run.features) == ("herding", None)
    assert (trained.init, trained.run.features, trained.run.feature_options) == ("herding", "teacher",
                                                                                  {"epochs": 1, "width": 8})
    assert trained.hash != plain.hash
    assert (by["dm", "dream"].init, by["dm", "dream"].run.features) == ("kmeans-centroid", "teacher")
    # a name-only selection is the same cell as before mappings existed (stored results keep their hashes)
    assert plain.hash == Grid.from_dict({**BASE, "methods": [], "selection": ["herding"]}).cells()[0].hash


@pytest.mark.parametrize("entry, match", [
    ({"name": "x", "init": "herding", "sampler": "relative-loss"}, "selection key='sampler'"),
    ({"name": "x"}, "selection.init=None"),
    ({"name": "x", "init": "herding", "features": "colour"}, "features='colour'"),
    ("greedy", "selection='greedy': expected an initializer"),
])
def test_bad_selection_entries_name_the_key(entry, match):
    with pytest.raises(InvalidParameterError, match=match):
        Grid.from_dict({**BASE, "methods": [], "selection": [entry]})


def test_selection_names_are_distinct():
    with pytest.raises(InvalidParameterError, match="distinct names"):
        Grid.from_dict({**BASE, "methods": [], "selection": ["herding", {"name": "herding", "init": "herding",
                                                                         "features": "teacher"}]})


def test_a_selection_entry_can_have_more_draws_than_the_method_cells():
    random = {"name": "random", "init": "random"}
    one = Grid.from_dict({**BASE, "seeds": [0], "methods": ["dm"], "variants": ["baseline"],
                          "selection": ["random", "herding"]})
    more = Grid.from_dict({**BASE, "seeds": [0], "methods": ["dm"], "variants": ["baseline"],
                           "selection": [{**random, "seeds": [0, 1, 2]}, "herding"]})
    assert [(c.method, c.variant, c.seed) for c in more.cells()] == [
        ("none", "random", 0), ("none", "herding", 0), ("dm", "baseline", 0), ("none", "random", 1),
        ("none", "random", 2)]
    # the same runs as without the extra draws: a mapping with seeds hashes as the bare name
    assert {c.hash for c in one.cells()} <= {c.hash for c in more.cells()}
    # a method seed the entry does not draw keeps its method cells only
    fewer = Grid.from_dict({**BASE, "seeds": [0, 1], "methods": ["dm"], "variants": ["baseline"],
                            "selection": [{**random, "seeds": [1]}]})
    assert [(c.method, c.seed) for c in fewer.cells()] == [("dm", 0), ("none", 1), ("dm", 1)]
    # per IPC: more draws where one draw says little (IPC 1), the grid's seeds elsewhere
    by_ipc = Grid.from_dict({**BASE, "ipc": [1, 2], "seeds": [0], "methods": [],
                             "selection": [{**random, "seeds": {1: [0, 1, 2]}}]})
    assert [(c.ipc, c.seed) for c in by_ipc.cells()] == [(1, 0), (1, 1), (1, 2), (2, 0)]


def test_a_variant_can_set_method_options():
    grid = Grid.from_dict({**BASE, "methods": ["dm"], "method_options": {"dm": {"batch_real": 8}},
                           "variants": ["baseline", {"name": "long", "method_options": {"iterations": 9}}]})
    by = {c.variant: c for c in grid.cells()}
    assert by["long"].run.method_options == {"iterations": 9, "batch_real": 8}
    assert by["baseline"].run.method_options == {"iterations": 4, "batch_real": 8}


def test_curve_points_space_each_cells_evaluations_over_its_own_budget():
    grid = Grid.from_dict({"name": "c", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                           "methods": ["dm", "dc"], "variants": ["baseline"], "selection": ["random"],
                           "curve_points": 3, "method_options": {"dm": {"iterations": 40}, "dc": {"iterations": 8}}})
    every = {c.method: c.run.eval_every for c in grid.cells()}
    assert every == {"dm": 10, "dc": 2, "none": 0}  # 3 points inside each run (+ its end)
    # 15 // 4 = 3 would evaluate at 3, 6, 9 and 12: a fourth point; 750 // 4 = 187 stops at 561 (748 is too near
    # the end to be a point, curve_iterations)
    odd = Grid.from_dict({"name": "c", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                          "methods": ["dm", "dc"], "variants": ["baseline"], "selection": [], "curve_points": 3,
                          "method_options": {"dm": {"iterations": 750}, "dc": {"iterations": 15}}})
    assert {c.method: c.run.eval_every for c in odd.cells()} == {"dm": 187, "dc": 4}
    cheap = Grid.from_dict({"name": "c", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                            "methods": ["dm"], "curve_points": 3, "curve_nets": 1})
    assert {c.run.curve_nets for c in cheap.cells()} == {1}
    with pytest.raises(InvalidParameterError, match="curve_nets=0: expected"):
        Grid.from_dict({"name": "c", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                        "methods": ["dm"], "curve_points": 3, "curve_nets": 0})
    with pytest.raises(InvalidParameterError, match="curve_points=3: expected 0 when eval_every is set"):
        Grid.from_dict({"name": "c", "preset": "tiny", "datasets": ["digits"], "ipc": [1], "seeds": [0],
                        "methods": ["dm"], "curve_points": 3, "eval_every": 5})


def test_a_grid_can_freeze_the_presets_method_settings_it_ran_against():
    spec = {"name": "g", "preset": "cpu", "datasets": ["digits"], "ipc": [1, 10], "seeds": [0], "methods": ["dc"],
            "variants": ["baseline"], "selection": []}
    today = Grid.from_dict(spec).cells()
    frozen = Grid.from_dict({**spec, "preset_methods": {"dc": {"iterations": 7, "batch_real": 5}},
                             "preset_methods_by_ipc": {"dc": {1: {"iterations": 70}}}}).cells()
    assert [c.run.method_options for c in frozen] == [{"iterations": 70, "batch_real": 5},
                                                      {"iterations": 7, "batch_real": 5}]
    assert [c.run.preset.name for c in frozen] == ["cpu", "cpu"]
    # frozen at today's settings: the very same cells (the protocol part of the preset is untouched)
    cpu = get_preset("cpu")
    same = Grid.from_dict({**spec, "preset_methods": {"dc": cpu.methods["dc"]},
                           "preset_methods_by_ipc": {"dc": cpu.methods_by_ipc["dc"]}}).cells()
    assert [c.hash for c in same] == [c.hash for c in today]
    with pytest.raises(InvalidParameterError, match="preset_methods_by_ipc"):
        Grid.from_dict({**spec, "preset_methods_by_ipc": {"dc": {1: {"iterations": 70}}}})
