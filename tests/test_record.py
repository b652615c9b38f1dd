"""The typed view of a manifest: what cli, bench and demo read from a finished run."""
from coredistill import distill
from coredistill.evaluate import EvalResult
from coredistill.record import RunRecord, Timings


def test_record_reads_a_runs_manifest(digits):
    res = distill(digits, ipc=1, method="dm", sampler="relative-loss", preset="tiny", progress=False)
    rec = res.record
    m = res.manifest
    assert rec.model == "ConvNet" and rec.accuracy == m["metrics"]["ConvNet"]["mean"]
    assert rec.result.accuracies == m["metrics"]["ConvNet"]["accuracies"] and len(rec.result.accuracies) == 2
    assert rec.timings.selection_s == m["timings"]["features_s"] + m["timings"]["select_s"]
    assert rec.timings.distill_s == m["timings"]["distill_s"] > 0
    assert rec.iterations == 4 and rec.sampler == "relative-loss" and len(rec.refreshes) == 4
    assert rec.curve[-1] == {"iteration": 4, "accuracy": rec.accuracy}


def test_eval_result_round_trips_and_old_manifests_take_defaults():
    r = EvalResult("ConvNet", [0.5, 0.7], 10, False, "tiny", 1.0, [1, 2])
    assert EvalResult.from_dict(r.to_dict()) == r
    old = {"preset": {"model": "ConvNet"}, "metrics": {"ConvNet": {"model": "ConvNet", "accuracies": [0.25],
                                                                    "epochs": 3, "dsa": False, "preset": "cpu",
                                                                    "seconds": 2.0, "mean": 0.25, "std": 0.0}}}
    rec = RunRecord.from_manifest(old)  # a manifest without timings, log or method written by an earlier version
    assert rec.accuracy == 0.25 and rec.result.mode == "sequential"
    assert rec.timings == Timings() and rec.refreshes == [] and rec.iterations == 0
