import numpy as np
import pytest
import torch

from coredistill.errors import InvalidParameterError
from coredistill.features import Encoder, cached_features, create_features, list_features
from coredistill.features.spaces import RandomNetEmbeddings


@pytest.fixture(scope="module")
def images():
    return torch.randn(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def test_pixels(images):
    f = create_features("pixels").compute(images)
    assert f.shape == (40, 64) and f.dtype == np.float32 and np.allclose(f, images.reshape(40, -1).numpy())


def test_random_nets_shapes_seed_and_combination(images):
    space = create_features("random-nets", num_nets=3, width=16, batch_size=7)
    a = space.compute(images, seed=1, progress=False)
    assert a.shape == (40, 3 * 16 * 4 * 4)  # auto depth 1 on 8x8: 16 channels x 4 x 4 per net
    assert np.array_equal(a, space.compute(images, seed=1, progress=False))
    assert not np.array_equal(a, space.compute(images, seed=2, progress=False))
    mean = create_features("random-nets", num_nets=3, width=16, combine="mean").compute(images, seed=1, progress=False)
    parts = a.reshape(40, 3, -1) * np.sqrt(3)  # concat is scaled by 1/sqrt(num_nets)
    assert np.allclose(mean, parts.mean(1), atol=1e-5)
    # squared distances of the concatenation = mean over nets of each net's squared distance
    d_concat = ((a[0] - a[1]) ** 2).sum()
    assert d_concat == pytest.approx(((parts[0] - parts[1]) ** 2).sum(-1).mean(), rel=1e-4)


def test_kernel_random_features_are_the_nngp_kernels_map(images):
    from coredistill.kernels import create_kernel

    phi = create_features("kernel-rf", num_models=2, width=16).compute(images, seed=3, progress=False)
    kernel = create_kernel("nngp-rf", num_models=2, width=16)
    kernel.setup(images, 10, torch.device("cpu"))
    kernel.resample(3)
    with torch.no_grad():  # the same draws as the kernel RFAD fits with: Φ(x)Φ(y)ᵀ gives its Gram matrix
        assert np.allclose(phi, kernel.features(images).numpy(), atol=1e-6)
        assert np.allclose(kernel.scale * phi @ phi.T + kernel.bias, kernel.kernel(images, images).numpy(), atol=1e-5)


def test_encoder_and_bad_options(images):
    enc = Encoder(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5)))
    assert enc.compute(images, progress=False).shape == (40, 5)
    assert not enc.cacheable
    with pytest.raises(InvalidParameterError, match="num_nets=0"):
        create_features("random-nets", num_nets=0).compute(images, progress=False)
    with pytest.raises(InvalidParameterError, match="features='sift'"):
        create_features("sift")
    assert {"pixels", "random-nets", "kernel-rf", "encoder"} <= set(list_features())


def test_cache_hit_skips_recompute_and_key_has_seed(images, tmp_path, monkeypatch):
    space = create_features("random-nets", num_nets=1, width=8)
    calls = []
    original = RandomNetEmbeddings.compute

    def counting(self, *a, **k):
        calls.append(k.get("seed"))
        return original(self, *a, **k)

    monkeypatch.setattr(RandomNetEmbeddings, "compute", counting)
    ident = {"name": "toy", "n": 40}
    a = cached_features(space, images, dataset_id=ident, seed=3, cache_dir=tmp_path, progress=False)
    b = cached_features(space, images, dataset_id=ident, seed=3, cache_dir=tmp_path, progress=False)
    assert np.array_equal(a, b) and calls == [3]
    cached_features(space, images, dataset_id=ident, seed=4, cache_dir=tmp_path, progress=False)
    cached_features(space, images, dataset_id={"name": "other", "n": 40}, seed=3, cache_dir=tmp_path, progress=False)
    assert calls == [3, 4, 3]
    assert len(list(tmp_path.glob("*.npy"))) == 3


@pytest.mark.parametrize("name, options", [("random-nets", {"num_nets": 2, "width": 8, "batch_size": 16}),
                                           ("kernel", {"num_models": 1, "width": 8, "batch_size": 16})])
def test_split_over_processes_gives_the_one_process_rows(images, monkeypatch, name, options):
    from coredistill.distributed import ClassShard

    # stand-in for the all-reduce: each "rank" keeps its own rows, and the test sums them as gloo would
    monkeypatch.setattr(ClassShard, "combine_rows", lambda self, array: array)
    space = create_features(name, **options)
    whole = space.compute(images, seed=5, progress=False)
    ranks = [space.compute(images, seed=5, progress=False, shard=ClassShard(r, 2)) for r in range(2)]
    # 40 rows in chunks of 16: rank 0 computes chunks 0 and 2, rank 1 chunk 1, and leaves zeros elsewhere
    owned = [np.r_[0:16, 32:40], np.r_[16:32]]
    for rank, rows in zip(ranks, owned):
        assert np.array_equal(rank[rows], whole[rows])
        assert not np.delete(rank, rows, axis=0).any()
    assert np.array_equal(ranks[0] + ranks[1], whole)  # bit for bit: x + 0


def test_a_rank_without_a_chunk_still_knows_the_width(images, monkeypatch):
    from coredistill.distributed import ClassShard

    monkeypatch.setattr(ClassShard, "combine_rows", lambda self, array: array)
    space = create_features("random-nets", num_nets=1, width=8, batch_size=64)  # one chunk: rank 1 owns none
    idle = space.compute(images, seed=0, progress=False, shard=ClassShard(1, 2))
    assert idle.shape == space.compute(images, seed=0, progress=False).shape and not idle.any()


@pytest.mark.parametrize("name, options", [("pixels", {}), ("random-nets", {"num_nets": 2, "width": 8}),
                                           ("random-nets", {"num_nets": 2, "width": 8, "combine": "mean"}),
                                           ("kernel", {"num_models": 1, "width": 8})])
def test_features_of_a_memory_mapped_set_are_memory_mapped_and_equal(images, tmp_path, name, options):
    from coredistill.data.transforms import Normalizer
    from coredistill.data.views import TrainingImages

    raw = (images * 40 + 128).clamp(0, 255).to(torch.uint8)
    view = TrainingImages(raw, Normalizer((0.5,), (0.25,)))  # rows read on access, as from an .npy memmap
    space = create_features(name, **options)
    in_memory = space.compute(view[:], seed=2, progress=False)
    ident = {"name": "toy-memmap", "n": 40}
    feats = cached_features(space, view, dataset_id=ident, seed=2, cache_dir=tmp_path, progress=False)
    assert np.array_equal(feats, in_memory)  # bit for bit, wherever the rows were written
    if options.get("combine") != "mean":  # written into a file as computed; "mean" averages in memory
        assert isinstance(feats, np.memmap) or isinstance(feats.base, np.memmap)
    entries = list(tmp_path.glob("*.npy"))
    assert len(entries) == 1 and not list(tmp_path.glob(".features.*"))  # the cache entry, no temporary left
    again = cached_features(space, view, dataset_id=ident, seed=2, cache_dir=tmp_path, progress=False)
    assert np.array_equal(again, in_memory)
    # no data set identity: nothing stays on disk, the mapping outlives the unlinked file
    loose = cached_features(space, view, dataset_id=None, seed=2, cache_dir=tmp_path / "loose", progress=False)
    assert np.array_equal(loose, in_memory) and not list((tmp_path / "loose").iterdir())


def test_a_space_written_before_shard_and_allocate_still_works(images, tmp_path):
    from coredistill.data.transforms import Normalizer
    from coredistill.data.views import TrainingImages
    from coredistill.features.spaces import FeatureSpace

    class Legacy(FeatureSpace):  # the compute signature of the first release
        name = "legacy"

        def compute(self, images, *, seed=0, device="cpu", progress=True):
            return np.asarray(images[:]).reshape(len(images), -1).astype(np.float32)

    view = TrainingImages((images * 40 + 128).clamp(0, 255).to(torch.uint8), Normalizer((0.5,), (0.25,)))
    feats = cached_features(Legacy(), view, dataset_id={"name": "toy"}, seed=0, cache_dir=tmp_path, progress=False)
    assert np.array_equal(feats, view[:].reshape(40, -1).numpy())  # computed in memory, cached as before
    assert len(list(tmp_path.glob("legacy-*.npy"))) == 1


def test_a_teachers_space_separates_the_classes_and_serves_selection(digits, tmp_path, monkeypatch):
    from coredistill import distill

    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))  # the feature and teacher caches

    x = digits.normalizer()(digits.train_float())
    y = digits.y_train.numpy()
    phi = create_features("teacher", epochs=5, lr=0.05, width=16).compute(x, labels=y, progress=False)

    def fisher(f):  # between-class over within-class scatter
        mu = f.mean(0)
        within = sum(((f[y == c] - f[y == c].mean(0)) ** 2).sum() for c in range(10))
        between = sum((y == c).sum() * ((f[y == c].mean(0) - mu) ** 2).sum() for c in range(10))
        return between / within

    assert fisher(phi) > 1.2 * fisher(x.reshape(len(x), -1).numpy())
    res = distill(digits, ipc=2, init="herding", features="teacher", feature_options={"epochs": 2, "width": 8},
                  preset="tiny", evaluate_with=(), progress=False)
    assert res.manifest["initializer"]["features"]["name"] == "teacher" and len(res.images) == 20
    assert len(list((tmp_path / "teachers").glob("teacher-*.pt"))) == 1  # the run's teacher, by the data's identity


def test_a_feature_teacher_is_trained_once_and_its_features_recomputed_from_the_cache(digits, tmp_path,
                                                                                       monkeypatch):
    import coredistill.sampling.teacher as teacher

    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path))
    x = digits.normalizer()(digits.train_float())[:300]
    y = digits.y_train.numpy()[:300]
    trained = []
    real_train = teacher.train_net
    monkeypatch.setattr(teacher, "train_net", lambda *a, **k: (trained.append(1), real_train(*a, **k))[1])
    space = create_features("teacher", epochs=1, width=8)
    first = space.compute(x, seed=3, labels=y, progress=False, dataset_id={"name": "digits-300"})
    again = space.compute(x, seed=3, labels=y, progress=False, dataset_id={"name": "digits-300"})
    assert trained == [1] and np.array_equal(first, again)  # the second loaded the network the first trained
    assert np.array_equal(first, space.compute(x, seed=3, labels=y, progress=False))  # no identity: trained anew
    assert trained == [1, 1]


def test_a_teachers_seed_replicates_it_per_run_seed_unless_fixed(digits):
    x = digits.normalizer()(digits.train_float())[:300]
    y = digits.y_train.numpy()[:300]

    def phi(run_seed, **options):
        return create_features("teacher", epochs=1, width=8, **options).compute(x, seed=run_seed, labels=y,
                                                                                progress=False)

    assert not np.array_equal(phi(1), phi(2))  # by default each run seed trains its own teacher
    assert np.array_equal(phi(1, seed=7), phi(2, seed=7))  # a fixed seed: one teacher for every run seed
    assert np.array_equal(phi(7), phi(3, seed=7))  # ... the one the run seed 7 trains
    from coredistill.features.cache import cache_key  # left at its default, the option keeps old cache keys
    assert "seed" not in create_features("teacher").options()
    assert cache_key({"name": "d"}, create_features("teacher", seed=None), 0) != \
        cache_key({"name": "d"}, create_features("teacher", seed=0), 0)
    with pytest.raises(InvalidParameterError, match=r"seed=-1: expected an integer >= 0 or None"):
        create_features("teacher", seed=-1).compute(x, labels=y, progress=False)
