from coredistill.presets import PRESETS, get_preset


def test_per_ipc_overrides_apply_only_at_their_ipc():
    cpu = get_preset("cpu")
    assert cpu.method_options("dc", 1)["iterations"] == 300 and cpu.method_options("dc", 1)["lr_images"] == 0.3
    assert cpu.method_options("dc", 10)["iterations"] == 10 and "lr_images" not in cpu.method_options("dc", 10)
    assert cpu.method_options("dc")["iterations"] == 10
    assert cpu.method_options("dc", 1)["batch_real"] == cpu.method_options("dc", 10)["batch_real"]


def test_every_preset_names_only_known_methods():
    from coredistill.methods import list_methods

    for name in PRESETS.names():
        p = PRESETS.get(name)
        assert set(p.methods) <= set(list_methods()), name
        assert set(p.methods_by_ipc) <= set(p.methods), name


def test_preset_sampler_defaults_reach_the_sampler_and_explicit_options_win(digits):
    from coredistill.pipeline import distill

    p = get_preset("tiny").with_overrides(samplers={"relative-loss": {"pool": 40, "refreshes": 2}})
    r = distill(digits, ipc=1, method="dm", preset=p, iterations=4, sampler="relative-loss", evaluate_with=(),
                progress=False, sampler_options={"predictor_options": {"epochs": 1}})
    assert r.manifest["sampler"]["options"]["pool"] == 40
    assert [h["iteration"] for h in r.manifest["log"]["sampler"]["refreshes"]] == [0, 2]
    r = distill(digits, ipc=1, method="dm", preset=p, iterations=4, sampler="relative-loss", evaluate_with=(),
                progress=False, sampler_options={"pool": 30, "predictor_options": {"epochs": 1}})
    assert r.manifest["sampler"]["options"]["pool"] == 30
    assert get_preset("cpu").sampler_options("relative-loss") == {"pool": 128}


def test_the_field_protocols_augment_mnist_alone_without_dsa_and_the_cpu_preset_nothing():
    # VICO-UoE/DatasetCondensation get_daparam: 'crop_scale_rotate' for MNIST, no augmentation for other data sets
    for name in ("paper", "reproduce"):
        p = get_preset(name)
        assert p.augment_without_dsa("mnist") == "crop_scale_rotate", name
        assert p.augment_without_dsa("fashion-mnist") is None, name
    assert get_preset("cpu").eval_augment == {} and get_preset("tiny").eval_augment == {}
