"""The representative sampler (DREAM): a class's batch is one representative per cluster of its pool, held for a
refresh; weighted, each carries its cluster's share of the pool; any initializer can choose the batch."""
import numpy as np
import pytest
import torch

from coredistill import distill
from coredistill.errors import InvalidParameterError
from coredistill.sampling import ScoringContext, create_sampler

SIZES = (50, 30, 20)  # three tight, far-apart clusters inside class 0
CENTERS = (0.0, 10.0, -10.0)


@pytest.fixture()
def clusters():
    g = torch.Generator().manual_seed(0)
    cluster = np.repeat(np.arange(len(SIZES)), SIZES)
    offsets = torch.tensor([CENTERS[k] for k in cluster], dtype=torch.float32).view(-1, 1, 1, 1)
    class0 = offsets + 0.01 * torch.randn(len(cluster), 1, 4, 4, generator=g)
    class1 = 30.0 + 0.01 * torch.randn(40, 1, 4, 4, generator=g)
    images = torch.cat([class0, class1])
    labels = np.concatenate([np.zeros(len(cluster), dtype=np.int64), np.ones(40, dtype=np.int64)])
    return images, labels, cluster


def _ready(images, labels, **options):
    s = create_sampler("representative", features="pixels", **options)
    s.check()
    s.setup(labels, 2, seed=0)
    s.prepare(ScoringContext(images, 2, real_labels=torch.as_tensor(labels)))
    s.update(iteration=0, total=4)
    return s


def test_a_batch_of_as_many_as_the_clusters_holds_one_member_of_each(clusters):
    images, labels, cluster = clusters
    s = _ready(images, labels, pool=None)
    idx, w = s.sample(0, 3, np.random.default_rng(0))
    assert sorted(cluster[idx].tolist()) == [0, 1, 2]  # a uniform batch of 3 misses a cluster in most draws
    assert w is None


def test_weights_are_the_clusters_shares_of_the_pool_with_mean_one(clusters):
    images, labels, cluster = clusters
    s = _ready(images, labels, pool=None, weighted=True)
    idx, w = s.sample(0, 3, np.random.default_rng(0))
    expected = np.array([SIZES[k] for k in cluster[idx]]) * 3 / sum(SIZES)
    np.testing.assert_allclose(w, expected)
    # the weighted batch mean is the class mean (each member stands for its cluster)
    x = images[idx].flatten(1).mean(1).numpy()
    assert np.average(x, weights=w) == pytest.approx(images[:100].mean().item(), abs=0.05)


def test_the_batch_holds_for_a_refresh_and_is_drawn_again_after_it(clusters):
    images, labels, _ = clusters
    s = _ready(images, labels, pool=20, refresh=2)
    first = s.sample(0, 5, np.random.default_rng(0))[0]
    assert np.array_equal(s.sample(0, 5, np.random.default_rng(1))[0], first)  # not the method's draw
    s.update(iteration=1, total=4)  # inside the refresh: kept
    assert np.array_equal(s.sample(0, 5, np.random.default_rng(2))[0], first)
    s.update(iteration=2, total=4)  # a new pool of 20 of the class's 100
    assert not np.array_equal(s.sample(0, 5, np.random.default_rng(2))[0], first)
    assert s.report()["refresh_count"] == 2


def test_any_initializer_chooses_the_batch(clusters):
    images, labels, _ = clusters
    s = _ready(images, labels, pool=None, selector="herding")
    idx, _ = s.sample(0, 10, np.random.default_rng(0))
    # herding: the 10 members whose mean is nearest the class mean
    assert abs(images[idx].mean().item() - images[:100].mean().item()) < 0.2


@pytest.mark.parametrize("option, value", [("selector", "nope"), ("features", "nope"), ("pool", 0),
                                           ("refresh", 0), ("selector_options", {"lloyd_iters": -1})])
def test_bad_options_are_named(option, value):
    with pytest.raises(InvalidParameterError, match=option.split("_")[0]):
        create_sampler("representative", **{option: value}).check()


def test_a_run_with_representative_batches(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    res = distill(digits, ipc=1, method="dm", preset="tiny", sampler="representative", evaluate_with=(),
                  sampler_options={"feature_options": {"epochs": 2, "width": 8}}, progress=False)
    report = res.manifest["log"]["sampler"]
    assert report["refresh_count"] == 4 and report["selector"] == "kmeans-centroid"  # one per iteration of 4
    assert res.record.refreshes == []  # relative-loss's per-rescoring diagnostics: none here
    assert len(list((tmp_path / "teachers").glob("teacher-*.pt"))) == 1


def test_a_resumed_run_draws_the_batches_of_an_unbroken_one(digits, tmp_path, stopped_before_the_end):
    run = dict(ipc=1, method="dm", preset="tiny", iterations=6, evaluate_with=(), progress=False,
               sampler="representative", sampler_options={"features": "pixels", "refresh": 3, "pool": 40,
                                                           "weighted": True},
               checkpoint_dir=tmp_path / "ck", checkpoint_every=4)
    whole = distill(digits, **run)
    stopped_before_the_end(tmp_path / "ck")
    # resumed at iteration 4, inside the refresh made at 3: the same pool and representatives, not new ones
    resumed = distill(digits, **run, resume=True)
    assert resumed.manifest["log"]["resumed_from"] == 4
    assert torch.equal(whole.images, resumed.images)
    uniform = distill(digits, **{**run, "sampler": "uniform", "sampler_options": {}, "checkpoint_dir": None,
                                 "checkpoint_every": 0})
    assert not torch.equal(whole.images, uniform.images)
