from coredistill.presets import PRESETS, get_preset


def test_per_ipc_overrides_apply_only_at_their_ipc():
    cpu = get_preset("cpu")
    assert cpu.method_options("dc", 1)["iterations"] == 100
    assert cpu.method_options("dc", 10)["iterations"] == 20
    assert cpu.method_options("dc")["iterations"] == 20
    assert cpu.method_options("dc", 1)["batch_real"] == cpu.method_options("dc", 10)["batch_real"]


def test_every_preset_names_only_known_methods():
    from coredistill.methods import list_methods

    for name in PRESETS.names():
        p = PRESETS.get(name)
        assert set(p.methods) <= set(list_methods()), name
        assert set(p.methods_by_ipc) <= set(p.methods), name
