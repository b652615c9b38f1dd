"""The teacher: difficulty by a network trained on the real data, trained once and cached; with it the sampler
can keep the teacher's mistakes (planted mislabelled examples) out of every batch."""
import numpy as np
import torch

from coredistill import distill
from coredistill.sampling import ScoringContext, Teacher, create_sampler


def _scoring(digits, y=None):
    x = digits.normalizer()(digits.train_float())
    y = digits.y_train if y is None else y
    return ScoringContext(x, 10, torch.device("cpu"), "ConvNet", {"width": 16}, None, y,
                          {"name": "digits-test", "labels": y.tolist()[:50] if y is not None else None,
                           "fingerprint": str(hash(tuple(y.tolist())))})


def test_teacher_learns_the_real_data_and_is_trained_once(digits, tmp_path, monkeypatch):
    import coredistill.sampling.teacher as module

    calls = []
    real_train = module.train_net
    monkeypatch.setattr(module, "train_net", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    scoring = _scoring(digits)
    teacher = Teacher(epochs=5, lr=0.05, cache_dir=str(tmp_path))
    predict = teacher.fit(None, None, scoring, torch.Generator())
    acc = (predict(scoring.real_images).argmax(1) == digits.y_train).float().mean()
    assert acc > 0.9
    assert len(list(tmp_path.glob("teacher-*.pt"))) == 1
    again = Teacher(epochs=5, lr=0.05, cache_dir=str(tmp_path)).fit(None, None, scoring, torch.Generator())
    assert len(calls) == 1  # the second teacher came from the cache
    assert torch.equal(again(scoring.real_images[:20]), predict(scoring.real_images[:20]))


def test_the_teachers_mistakes_are_never_drawn(digits, tmp_path):
    y = digits.y_train.clone()
    ones = np.flatnonzero(y.numpy() == 1)[:5]
    y[torch.from_numpy(ones)] = 0  # five "1"s labelled 0: the teacher (fit to most labels) calls them 1
    scoring = _scoring(digits, y)
    s = create_sampler("relative-loss", pool=None, predictor="teacher", drop_misclassified=True, gamma=-1.0,
                       predictor_options={"epochs": 5, "lr": 0.05, "cache_dir": str(tmp_path)})
    s.check()
    s.setup(y.numpy(), 10, seed=0)
    s.rescore(scoring.real_images[:10], y[:10], scoring)
    pool, p = s.probabilities(0)
    assert (p[np.isin(pool, ones)] == 0).all() and (p > 0).sum() >= len(pool) - 15
    drawn = {int(i) for _ in range(300) for i in s.sample(0, 8, np.random.default_rng(_))[0]}
    assert not drawn & set(ones.tolist())


def test_a_run_with_a_teacher(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    res = distill(digits, ipc=1, method="dm", preset="tiny", sampler="relative-loss", evaluate_with=(),
                  sampler_options={"predictor": "teacher", "predictor_options": {"epochs": 2}, "gamma": -1.0},
                  progress=False)
    assert len(list((tmp_path / "teachers").glob("teacher-*.pt"))) == 1
    assert res.manifest["sampler"]["options"]["predictor"] == "teacher"
    assert len(res.record.refreshes) == 4
