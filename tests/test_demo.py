from coredistill.demo import SELECTION, demo_grid, run_demo


def test_demo_runs_every_row_and_saves_artifacts(tmp_path, capsys):
    table = run_demo("digits", ipcs=(1,), preset="tiny", out_dir=tmp_path, full_data=False, progress=False)
    assert len(table) == len(SELECTION) + 5 == len(demo_grid(ipcs=(1,), preset="tiny").cells())
    assert {(r[2], r[3], r[4], r[5]) for r in table} >= {
        ("dm", "baseline", "random", "uniform"), ("dm", "both", "kmeans-sensitivity", "relative-loss"),
        # the budget-aware recipe: typical images, and at IPC 1 the uniform batches DM's validated rule chose
        ("dm", "aligned-both", "kmeans-coreset", "uniform")}
    assert all(0 < float(r[7].split(" ± ")[0]) <= 100 for r in table)
    assert len(list(tmp_path.glob("*/manifest.json"))) == len(table)
    assert "real batches" in capsys.readouterr().out


def test_demo_can_name_mtt_whose_sampling_rows_train_their_own_experts(tmp_path):
    table = run_demo("digits", ipcs=(1,), preset="tiny", methods=["mtt"], out_dir=tmp_path, full_data=False,
                     progress=False)
    mtt = [r for r in table if r[2] == "mtt"]
    assert [r[5] for r in mtt] == ["uniform (experts)", "uniform (experts)", "relative-loss (experts)",
                                   "relative-loss (experts)", "uniform (experts)"]
    assert len(list((tmp_path / "experts").glob("*/expert_*.pt"))) == 2 * 2  # two buffers of two experts
