"""The relative-loss importance sampler: what it draws, how it scores, and that it resumes exactly."""
import numpy as np
import pytest
import torch
from scipy import stats

from coredistill.errors import InvalidParameterError
from coredistill.pipeline import distill
from coredistill.sampling import ScoringContext, create_sampler
from coredistill.sampling.relative_loss import relative_loss_probabilities


class Planted:
    """A predictor whose "logits" are the first pixel of each image: with ``planted_loss`` below, an example's loss
    is whatever value the test wrote into its image."""

    def fit(self, images, labels, scoring, generator):
        return lambda x: x.flatten(1)[:, :1]


def planted_loss(logits, targets):
    return logits[:, 0]


def _ctx(values, labels, sampler, num_classes=2):
    images = torch.as_tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).contiguous()
    return ScoringContext(images, num_classes)


def _scored(losses, labels, **options):
    s = create_sampler("relative-loss", predictor=Planted(), loss=planted_loss, pool=None, **options)
    s.check()
    s.setup(labels, int(labels.max()) + 1, seed=0)
    ctx = _ctx(losses, labels, s, int(labels.max()) + 1)
    s.rescore(torch.zeros(1, 1, 2, 2), torch.zeros(1, dtype=torch.long), ctx)
    return s


def test_draw_frequencies_follow_relative_loss():
    rng = np.random.default_rng(0)
    losses = rng.gamma(2.0, size=60)
    labels = np.zeros(60, dtype=int)
    s = _scored(losses, labels, beta=0.1)
    pool, p = s.probabilities(0)
    expected = 0.9 * losses / losses.sum() + 0.1 / 60
    assert np.allclose(p, expected)
    counts = np.zeros(60)
    for _ in range(12000):
        idx, w = s.sample(0, 1, rng)
        assert w is None
        counts[idx] += 1
    assert stats.chisquare(counts, 12000 * expected).pvalue > 1e-3
    assert stats.chisquare(counts).pvalue < 1e-12  # clearly not uniform


def test_beta_one_is_uniform():
    losses = np.linspace(0.1, 9.0, 30)
    s = _scored(losses, np.zeros(30, dtype=int), beta=1.0)
    assert np.allclose(s.probabilities(0)[1], 1 / 30)


def test_pruning_removes_exactly_the_lowest_loss_fraction():
    rng = np.random.default_rng(1)
    losses = rng.permutation(np.arange(1, 101, dtype=float))
    s = _scored(losses, np.zeros(100, dtype=int), beta=0.5, prune=0.3)
    p = s.probabilities(0)[1]
    assert set(np.flatnonzero(p == 0)) == set(np.argsort(losses)[:30])
    seen = set()
    for _ in range(3000):
        seen.update(s.sample(0, 5, rng)[0].tolist())
    assert seen == set(np.argsort(losses)[30:].tolist())


def test_weighted_batch_means_are_unbiased_and_unweighted_are_not():
    rng = np.random.default_rng(2)
    losses = rng.gamma(1.0, size=80)
    f = rng.normal(size=80) + losses  # a fixed function correlated with the loss
    s = _scored(losses, np.zeros(80, dtype=int), beta=0.2, weighted=True)
    draws = [s.sample(0, 8, rng) for _ in range(6000)]
    estimates = np.array([(w * f[i]).mean() for i, w in draws])
    stderr = estimates.std() / np.sqrt(len(estimates))
    assert abs(estimates.mean() - f.mean()) < 4 * stderr
    plain = np.array([f[i].mean() for i, _ in draws])
    assert plain.mean() - f.mean() > 10 * stderr  # without weights the batch leans to high-loss examples


@pytest.mark.parametrize("gamma", [2.0, 0.0, -1.0])
def test_gamma_sets_how_strongly_and_which_way_p_follows_the_loss(gamma):
    losses = np.array([0.5, 1.0, 2.0, 4.0])
    p = relative_loss_probabilities(losses, beta=0.0, prune=0.0, gamma=gamma)
    assert np.allclose(p, losses ** gamma / (losses ** gamma).sum())  # 0: uniform, < 0: the easiest most often
    assert np.array_equal(relative_loss_probabilities(losses, 0.3, 0.0, gamma=1.0),
                          relative_loss_probabilities(losses, 0.3, 0.0))  # γ = 1 is the coreset paper's p, bit for bit


def test_the_hardest_fraction_is_never_drawn_and_weights_estimate_the_drawable_mean():
    rng = np.random.default_rng(5)
    losses = rng.gamma(1.0, size=60)
    f = rng.normal(size=60) + losses
    s = _scored(losses, np.zeros(60, dtype=int), beta=0.2, weighted=True, gamma=-1.0, drop_hardest=0.25)
    pool, p = s.probabilities(0)
    hardest = np.argsort(losses)[-15:]
    assert (p[hardest] == 0).all() and np.isclose(p.sum(), 1)
    draws = [s.sample(0, 6, rng) for _ in range(6000)]
    assert not set(hardest) & {int(i) for idx, _ in draws for i in idx}
    estimates = np.array([(w * f[i]).mean() for i, w in draws])
    kept_mean = np.delete(f, hardest).mean()
    assert abs(estimates.mean() - kept_mean) < 4 * estimates.std() / np.sqrt(len(estimates))
    with pytest.raises(InvalidParameterError, match="drop_hardest=0.6: expected less than 1 - prune = 0.5"):
        create_sampler("relative-loss", prune=0.5, drop_hardest=0.6).check()


def test_planted_mislabelled_example_is_drawn_far_more_often(digits):
    x = digits.normalizer()(digits.train_float())
    y = digits.y_train.clone()
    planted = int(np.flatnonzero(y.numpy() == 1)[0])
    y[planted] = 0  # a "1" labelled 0: the proxy trained on the synthetic set disagrees strongly
    syn_idx = np.concatenate([np.flatnonzero(y.numpy() == c)[1:6] for c in range(10)])
    s = create_sampler("relative-loss", pool=None, beta=0.2, predictor_options={"epochs": 100, "lr": 0.05})
    s.setup(y.numpy(), 10, seed=0)
    ctx = ScoringContext(x, 10, torch.device("cpu"), "ConvNet", {"width": 16})
    s.rescore(x[syn_idx], y[syn_idx], ctx)
    pool, p = s.probabilities(0)
    pos = int(np.flatnonzero(pool == planted)[0])
    assert p[pos] == p.max() and p[pos] > 10 * np.median(p)
    rng = np.random.default_rng(3)
    counts = np.zeros(len(pool))
    for _ in range(2000):
        idx, _ = s.sample(0, 4, rng)
        counts[np.searchsorted(pool, idx)] += 1
    assert counts[pos] > 5 * np.median(counts)


def test_refresh_changes_p_when_the_synthetic_set_changes_and_is_deterministic(digits):
    x = digits.normalizer()(digits.train_float())
    y = digits.y_train
    s = create_sampler("relative-loss", pool=50, predictor_options={"epochs": 30, "lr": 0.05})
    s.setup(y.numpy(), 10, seed=4)
    ctx = ScoringContext(x, 10, torch.device("cpu"), "ConvNet", {"width": 16})
    first = np.concatenate([np.flatnonzero(y.numpy() == c)[:1] for c in range(10)])
    s.rescore(x[first], y[first], ctx, iteration=10)
    p1 = [p.copy() for p in s._p]
    s.rescore(x[first], y[first], ctx, iteration=10)
    assert all(np.array_equal(a, b) for a, b in zip(p1, s._p))  # same set, same iteration: same p
    s.rescore(x[first] + 2.0 * torch.randn(x[first].shape, generator=torch.Generator().manual_seed(0)), y[first],
              ctx, iteration=10)
    assert not all(np.allclose(a, b) for a, b in zip(p1, s._p))
    assert len(s.report()["refreshes"]) == 3


def test_state_resumes_bit_identically(digits, tmp_path, stopped_before_the_end):
    run = dict(ipc=1, method="dm", preset="tiny", iterations=6, evaluate_with=(), progress=False,
               sampler="relative-loss", sampler_options={"refresh": 3, "pool": 40, "weighted": True,
                                                         "predictor_options": {"epochs": 2}},
               checkpoint_dir=tmp_path / "ck", checkpoint_every=4)
    whole = distill(digits, **run)
    stopped_before_the_end(tmp_path / "ck")
    # the checkpoint at iteration 4 holds p from the refresh at 3; resuming must not re-score or lose it
    resumed = distill(digits, **run, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 4
    assert torch.equal(whole.images, resumed.images)
    history = [h["iteration"] for h in resumed.manifest["log"]["sampler"]["refreshes"]]
    assert history == [0, 3]
    uniform = distill(digits, **{**run, "sampler": "uniform", "sampler_options": {}, "checkpoint_dir": None, "checkpoint_every": 0})
    assert not torch.equal(whole.images, uniform.images)


def test_scoring_share_and_diagnostics_in_the_manifest(digits):
    r = distill(digits, ipc=2, method="dm", preset="tiny", iterations=4, evaluate_with=(), progress=False,
                sampler="relative-loss", sampler_options={"refresh": 2, "predictor_options": {"epochs": 2}})
    log = r.manifest["log"]
    assert 0 < log["sampler_seconds"] < log["seconds"] and 0 < log["sampler_share"] < 1
    refreshes = log["sampler"]["refreshes"]
    assert [h["iteration"] for h in refreshes] == [0, 2]
    c0 = refreshes[0]["classes"][0]
    assert 0 < c0["entropy"] <= c0["max_entropy"] + 1e-9 and 0 < c0["mass90_fraction"] <= 1
    assert c0["mean_loss"] > 0 and len(c0["top"]) == 8


@pytest.mark.parametrize("options, match", [
    ({"beta": 1.5}, "beta=1.5: expected a number in \\[0, 1\\]"),
    ({"beta": -0.1}, "beta=-0.1"),
    ({"prune": 1.0}, "prune=1.0: expected a fraction in \\[0, 1\\)"),
    ({"refresh": 0}, "refresh=0: expected a positive integer"),
    ({"pool": -5}, "pool=-5"),
    ({"loss": "hinge"}, "loss='hinge': expected one of: cross-entropy"),
    ({"predictor": "oracle"}, "predictor='oracle'"),
    ({"predictor_options": {"epochs": 0}}, "proxy epochs=0"),
])
def test_bad_options_are_named(options, match, digits):
    with pytest.raises(InvalidParameterError, match=match):
        distill(digits, ipc=1, method="dm", preset="tiny", sampler="relative-loss", sampler_options=options,
                evaluate_with=(), progress=False)


@pytest.mark.parametrize("loss, match", [
    (lambda logits, t: logits.sum(1, keepdim=True), "shape \\(40,\\).*got \\(40, 1\\)"),
    (lambda logits, t: -logits[:, 0].abs() - 1, "non-negative per-example losses"),
    (lambda logits, t: logits[:, 0] * float("nan"), "finite per-example losses, got 40 NaN"),
])
def test_bad_losses_are_refused_with_clear_errors(loss, match):
    s = create_sampler("relative-loss", predictor=Planted(), loss=loss, pool=None)
    s.check()
    labels = np.zeros(40, dtype=int)
    s.setup(labels, 1)
    with pytest.raises(InvalidParameterError, match=match):
        s.rescore(torch.zeros(1, 1, 2, 2), torch.zeros(1, dtype=torch.long), _ctx(np.ones(40), labels, s, 1))


def test_probabilities_function():
    assert np.allclose(relative_loss_probabilities(np.array([0.0, 0.0]), 0.0, 0.0), [0.5, 0.5])  # all zero: uniform
    p = relative_loss_probabilities(np.array([1.0, 2.0, 3.0, 4.0]), 0.2, 0.5)
    assert p[0] == p[1] == 0 and np.isclose(p.sum(), 1) and np.isclose(p[3], 0.8 * 4 / 7 + 0.1)


def test_gamma_schedule_moves_linearly_from_gamma_to_gamma_end():
    """gamma_end: a curriculum over the run. Four refreshes over 8 iterations (at 0, 2, 4, 6) with γ from -1 to 1
    use γ = -1, -0.5, 0, 0.5, each giving exactly the p of a fixed-γ sampler at that value."""
    losses = np.linspace(0.5, 4.0, 12)
    labels = np.zeros(12, dtype=int)
    s = create_sampler("relative-loss", predictor=Planted(), loss=planted_loss, pool=None, beta=0.0, gamma=-1.0,
                       gamma_end=1.0, refreshes=4)
    s.check()
    s.setup(labels, 1, seed=0)
    ctx = _ctx(losses, labels, s, 1)
    seen = []
    for it in range(8):
        s.update(iteration=it, total=8, images=torch.zeros(1, 1, 2, 2), labels=torch.zeros(1, dtype=torch.long),
                 scoring=ctx)
        if s.report()["refreshes"] and s.report()["refreshes"][-1]["iteration"] == it:
            seen.append((s.report()["refreshes"][-1]["gamma"], s.probabilities(0)[1].copy()))
    assert [g for g, _ in seen] == [-1.0, -0.5, 0.0, 0.5]
    for g, p in seen:
        assert np.allclose(p, _scored(losses, labels, beta=0.0, gamma=g).probabilities(0)[1])
    assert np.allclose(seen[2][1], 1 / 12)  # γ = 0 on the way: uniform
    with pytest.raises(InvalidParameterError, match="gamma_end"):
        create_sampler("relative-loss", gamma_end="steep").check()
