from coredistill.demo import ROWS, run_demo


def test_demo_runs_every_row_and_saves_artifacts(tmp_path, capsys):
    table = run_demo("digits", ipcs=(1,), preset="tiny", out_dir=tmp_path, full_data=False, progress=False)
    assert len(table) == len(ROWS)
    assert {(r[2], r[3], r[4]) for r in table} >= {("dm", "random", "uniform"), ("dm", "kmeans-sensitivity",
                                                                                  "relative-loss")}
    assert all(0 < float(r[6].split(" ± ")[0]) <= 100 for r in table)
    assert len(list(tmp_path.glob("*/manifest.json"))) == len(ROWS)
    assert "real batches" in capsys.readouterr().out
