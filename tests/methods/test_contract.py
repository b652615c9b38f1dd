"""Generated from the registries: every learning method has settings in every preset, and under each preset's
settings it resolves, checks and runs one iteration that moves the images (a method added to the registry is
covered without another line here)."""
import json

import numpy as np
import pytest
import torch

from coredistill.config import RunConfig
from coredistill.methods import METHODS, create_method, list_methods
from coredistill.methods.experts import FORMAT, MANIFEST, expert_file
from coredistill.models import create_model
from coredistill.pipeline import dataset_identity, run
from coredistill.presets import PRESETS

LEARNING = [m for m in list_methods() if m != "none"]


@pytest.mark.parametrize("preset", PRESETS.names())
@pytest.mark.parametrize("method", LEARNING)
def test_every_preset_has_settings_for_every_method(preset, method):
    options = PRESETS.get(preset).methods.get(method)
    assert options, f"preset {preset!r} has no settings for method {method!r}: it would run at the constructor's defaults"
    learner = create_method(method, **options)  # every option it names is one the method takes
    rebuilt = create_method(method, **learner.options())  # and the options a manifest records rebuild it
    assert rebuilt.options() == learner.options()


def _fake_buffer(folder, digits, preset, epochs):
    """A buffer of random trajectories with the manifest a real build writes (training one of 22 epochs per
    test would cost minutes; the contract here is the method's step, not the experts)."""
    template = create_model(preset.model, 1, 10, (8, 8), seed=0, **preset.model_options)
    params = sum(p.numel() for p in template.parameters())
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    torch.save(0.05 * torch.randn(epochs + 1, params, generator=g).cumsum(0), expert_file(folder, 0))
    config = {"dataset": dataset_identity(digits, None), "model": preset.model, "model_options": preset.model_options,
              "epochs": epochs}
    (folder / MANIFEST).write_text(json.dumps({
        "format": FORMAT, "config": config, "params": [[n, list(p.shape)] for n, p in template.named_parameters()],
        "num_classes": 10, "image_shape": [1, 8, 8], "experts": [expert_file(folder, 0).name]}))
    return folder


@pytest.mark.parametrize("preset", PRESETS.names())
@pytest.mark.parametrize("method", LEARNING)
def test_every_method_runs_one_iteration_under_every_preset(preset, method, digits, tmp_path):
    p = PRESETS.get(preset)
    options = {}
    if METHODS.get(method).needs_experts:
        resolved = p.method_options(method, 1)
        options["experts"] = str(_fake_buffer(tmp_path / "experts", digits, p,
                                              resolved["max_start_epoch"] + resolved["expert_epochs"]))
    config = RunConfig.resolve("digits", 1, method=method, preset=preset, iterations=1, method_options=options)
    result = run(config, digits, evaluate_with=(), progress=False)
    start = digits.normalizer()(digits.train_float())[np.asarray(result.manifest["initializer"]["indices"])]
    assert result.images.shape == start.shape and torch.isfinite(result.images).all()
    assert not torch.equal(result.images, start), "one iteration left the images where they started"
    assert result.manifest["method"]["options"]["iterations"] == 1
