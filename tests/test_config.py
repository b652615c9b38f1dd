"""The run configuration: one place merges a preset's defaults with the caller's options and hashes the result."""
from dataclasses import replace

import pytest

from coredistill.config import RunConfig
from coredistill.errors import InvalidParameterError
from coredistill.presets import DEFAULT_NUM_EXPERTS, PRESETS


def test_preset_defaults_merge_under_the_callers_options():
    cfg = RunConfig.resolve("digits", 1, method="dc", preset="cpu", method_options={"batch_real": 8},
                            sampler="relative-loss", sampler_options={"beta": 0.5})
    # cpu sets dc's iterations and step per ipc (300 at lr 0.3 at ipc 1), its batch 64, and the sampler's pool 128
    assert cfg.method_options == {"iterations": 300, "batch_real": 8, "inner_loop": 5, "lr_images": 0.3}
    assert cfg.sampler_options == {"pool": 128, "beta": 0.5}
    assert RunConfig.resolve("digits", 10, method="dc", preset="cpu").method_options["iterations"] == 10
    assert RunConfig.resolve("digits", 1, method="dc", preset="cpu", iterations=3).method_options["iterations"] == 3


def test_hash_ignores_the_presets_wording_but_not_its_evaluation():
    tiny = PRESETS.get("tiny")
    base = RunConfig.resolve("digits", 1, method="dm", preset=tiny).hash
    assert RunConfig.resolve("digits", 1, method="dm", preset=replace(tiny, description="reworded")).hash == base
    assert RunConfig.resolve("digits", 1, method="dm", preset=replace(tiny, eval_ensemble=True)).hash == base
    assert RunConfig.resolve("digits", 1, method="dm", preset=replace(tiny, eval_compiled="auto")).hash == base
    assert RunConfig.resolve("digits", 1, method="dm", preset=replace(tiny, weight_decay=0.0)).hash != base


def test_a_presets_augmentation_for_the_runs_data_set_is_checked_before_any_work():
    bad = replace(PRESETS.get("tiny"), eval_augment={"digits": "crop_flip"})
    with pytest.raises(InvalidParameterError, match="eval_augment\\['digits'\\]='crop_flip': expected operations"):
        RunConfig.resolve("digits", 1, method="dm", preset=bad)
    RunConfig.resolve("mnist", 1, method="dm", preset=replace(bad, eval_augment={"digits": "crop_rotate"}))


def test_a_per_data_set_evaluation_setting_hashes_only_the_runs_own_entry():
    tiny = PRESETS.get("tiny")
    base = RunConfig.resolve("digits", 1, method="dm", preset=tiny).hash
    elsewhere = replace(tiny, eval_augment={"mnist": "crop_scale_rotate"})
    assert RunConfig.resolve("digits", 1, method="dm", preset=elsewhere).hash == base  # presets before it: same
    here = replace(tiny, eval_augment={"digits": "crop_scale_rotate"})
    assert RunConfig.resolve("digits", 1, method="dm", preset=here).hash != base
    assert RunConfig.resolve("digits", 1, method="dm", preset=here).identity()["preset"]["eval_augment"] == \
        "crop_scale_rotate"


@pytest.mark.parametrize("change", [{"seed": 1}, {"ipc": 2}, {"init": "herding"}, {"sampler": "relative-loss"},
                                    {"method_options": {"iterations": 9}}, {"init_options": {"coreset_size": 50}},
                                    {"features": "pixels"}, {"zca_eps": 0.1}, {"eval_every": 2},
                                    {"dataset_options": {"path": "x"}}])
def test_every_setting_that_changes_a_result_changes_the_hash(change):
    kw = {"ipc": 1, "method": "dm", "preset": "tiny", **change}
    ipc = kw.pop("ipc")
    assert RunConfig.resolve("digits", ipc, **kw).hash != RunConfig.resolve("digits", 1, method="dm",
                                                                            preset="tiny").hash


def test_a_method_that_learns_from_experts_gets_the_sampler_in_expert_training():
    a = RunConfig.resolve("digits", 1, method="mtt", preset="tiny", sampler="relative-loss", seed=0)
    b = RunConfig.resolve("digits", 10, method="mtt", preset="tiny", sampler="relative-loss", seed=3)
    assert a.sampler == "uniform" and a.real_data_sampler == "relative-loss"
    assert a.experts.hash == b.experts.hash  # one buffer for every seed and IPC
    given = RunConfig.resolve("digits", 1, method="mtt", preset="tiny", method_options={"experts": "buf"})
    assert given.experts is None
    with pytest.raises(InvalidParameterError, match="sampler='relative-loss': expected 'uniform' when the method is "
                                                    "given an expert buffer"):
        RunConfig.resolve("digits", 1, method="mtt", preset="tiny", sampler="relative-loss",
                          method_options={"experts": "buf"})


def test_the_expert_count_defaults_to_the_presets_wherever_experts_are_built():
    # one default for `distill`, `experts` and `reproduce`: the preset's count when it sets one, else the library's
    reproduce, cpu = PRESETS.get("reproduce"), PRESETS.get("cpu")
    assert reproduce.experts["num_experts"] == reproduce.num_experts() != DEFAULT_NUM_EXPERTS
    assert "num_experts" not in cpu.experts and cpu.num_experts() == DEFAULT_NUM_EXPERTS
    for preset in (reproduce, cpu):
        assert RunConfig.resolve("mnist", 1, method="mtt", preset=preset).experts.num_experts == preset.num_experts()
    assert RunConfig.resolve("mnist", 1, method="mtt", preset=reproduce, num_experts=7).experts.num_experts == 7
    with pytest.raises(InvalidParameterError, match="num_experts=0: expected a positive integer"):
        RunConfig.resolve("mnist", 1, method="mtt", preset=reproduce, num_experts=0)


@pytest.mark.parametrize("kw, match", [
    ({"seed": -1}, "seed=-1: expected an integer >= 0"), ({"seed": 1.5}, "seed=1.5"), ({"seed": "a"}, "seed='a'"),
    ({"method": "dmm"}, "method='dmm'"), ({"init": "best"}, "init='best'"), ({"sampler": "x"}, "sampler='x'"),
    ({"preset": "huge"}, "preset='huge'"), ({"eval_every": -1}, "eval_every=-1"), ({"iterations": 0}, "iterations=0"),
    ({"zca_eps": 0}, "zca_eps=0"), ({"method_options": [1]}, "method_options=\\[1\\]"),
])
def test_bad_settings_are_named(kw, match):
    with pytest.raises(InvalidParameterError, match=match):
        RunConfig.resolve("digits", 1, **kw)
