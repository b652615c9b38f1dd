"""torch.distributed: a 2-process gloo run (torchrun, the real CLI) gives the 1-process result — bit for bit at the
same threads per process for the class-split methods, to float rounding for the gradient-reduced KRR methods;
methods that cannot split are refused with a clear error."""
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from coredistill.artifacts import DistilledSet
from coredistill.distributed import ClassShard
from coredistill.errors import InvalidParameterError
from coredistill.methods import Context, LoopSettings, RealData, create_method, run_loop
from coredistill.sampling import create_sampler


def _args(tmp_path, name, extra):
    return ["distill", "--dataset", "digits", "--ipc", "2", "--preset", "tiny", "--quiet", "--out",
            str(tmp_path / name), *extra]


def _distill_here(tmp_path, name, extra, monkeypatch):
    """The one-process reference, in this process (saves a process start) at the workers' one thread."""
    from coredistill.cli import main

    monkeypatch.setenv("COREDISTILL_DATA", str(tmp_path / f"data-{name}"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(_args(tmp_path, name, extra)) == 0
    finally:
        torch.set_num_threads(threads)
    return DistilledSet.load(tmp_path / name)


def _distill(tmp_path, name, launcher, extra):
    # equal threads per process: CPU kernels reduce in one order; a fresh feature cache per run, so that a
    # several-process run computes its selection features instead of reading the one-process run's
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COREDISTILL_DATA": str(tmp_path / f"data-{name}")}
    cmd = [sys.executable, *launcher, "-m", "coredistill", *_args(tmp_path, name, extra)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if out.returncode and launcher:
        # a 2-process launch failed about 1 run in 10 on this loaded machine, never reproducibly (suspected: the
        # free-port race of torchrun --standalone); retry the launch once, say so, and still check the result
        warnings.warn(f"torchrun launch failed once, retrying; its stderr ends:\n{out.stderr[-2000:]}")
        shutil.rmtree(tmp_path / name, ignore_errors=True)
        shutil.rmtree(tmp_path / f"{name}.ckpt", ignore_errors=True)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return DistilledSet.load(tmp_path / name)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--method", "dm", "--init", "kmeans-sensitivity", "--features", "random-nets"],
                                   ["--method", "dsa", "--sampler", "relative-loss", "--checkpoint-every", "1"]],
                         ids=["dm-split-selection-features", "dsa-relative-loss-checkpointed"])
def test_two_gloo_processes_equal_one(tmp_path, extra, monkeypatch):
    one = _distill_here(tmp_path, "one", extra, monkeypatch)
    two = _distill(tmp_path, "two", ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"], extra)
    assert two.manifest["processes"] == 2 and one.manifest["processes"] == 1
    assert torch.equal(one.images, two.images)
    assert one.manifest["initializer"]["indices"] == two.manifest["initializer"]["indices"]
    # eval nets were split across the two processes and gathered in order
    assert one.manifest["metrics"]["ConvNet"]["accuracies"] == two.manifest["metrics"]["ConvNet"]["accuracies"]
    # the logged loss is the all-reduced sum of per-process shares: equal up to summation order
    np.testing.assert_allclose(one.manifest["log"]["loss"], two.manifest["log"]["loss"], rtol=1e-6)


@pytest.mark.slow
def test_rfad_on_two_processes_matches_one_to_rounding(tmp_path, monkeypatch):
    extra = ["--method", "rfad", "--init", "kernel-leverage", "--sampler", "relative-loss", "--no-eval"]
    one = _distill_here(tmp_path, "one", extra, monkeypatch)
    two = _distill(tmp_path, "two", ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"], extra)
    # the selection's features and leverage scores were split by rows and combined exactly: the same images
    assert one.manifest["initializer"]["indices"] == two.manifest["initializer"]["indices"]
    # the real batch is split by class and the gradients summed: equal up to the order of that sum
    torch.testing.assert_close(two.images, one.images, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(one.manifest["log"]["loss"], two.manifest["log"]["loss"], rtol=1e-5)


def test_a_method_that_cannot_split_is_refused_on_several_processes(digits):
    labels = np.repeat(np.arange(10), 2)
    sampler = create_sampler("uniform")
    sampler.setup(labels, 10)
    x = torch.zeros(20, 1, 8, 8)
    ctx = Context(RealData(x, torch.as_tensor(labels), digits), 10, 1, sampler, np.random.default_rng(0),
                  torch.Generator().manual_seed(0), torch.device("cpu"), shard=ClassShard(rank=0, world=2))
    with pytest.raises(InvalidParameterError, match="method='mtt'.*splits across processes.*2 processes"):
        run_loop(create_method("mtt", iterations=1), x[::2], torch.arange(10), ctx, LoopSettings(iterations=1),
                 progress=False)


def _leverage_rank(rank: int, init_file: str, phi: np.ndarray, out: dict) -> None:
    import torch.distributed as dist

    from coredistill.select import ridge_leverage
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        out[rank] = ridge_leverage(phi, shard=ClassShard(rank, 2))
    finally:
        dist.destroy_process_group()


def test_ridge_leverage_split_over_two_processes_is_bit_exact(tmp_path):
    import torch.multiprocessing as mp

    from coredistill.select import ridge_leverage
    # 3 chunks of rows (8192, 8192, 3616): rank 0 takes chunks 0 and 2, rank 1 chunk 1 and a blank second round
    phi = np.random.default_rng(0).standard_normal((20000, 6)).astype(np.float32)
    with mp.Manager() as manager:
        out = manager.dict()
        mp.spawn(_leverage_rank, args=(str(tmp_path / "store"), phi, out), nprocs=2)
        ranks = [out[0], out[1]]
    whole = ridge_leverage(phi)
    assert np.array_equal(ranks[0], whole) and np.array_equal(ranks[1], whole)


def test_with_cuda_the_group_also_carries_cpu_tensors(monkeypatch):
    import coredistill.distributed as distributed

    joined = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", joined.append)
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", joined.append)
    assert distributed.init_from_env()
    # NCCL rejects CPU tensors; losses, selection features and scores are reduced on the host through gloo
    assert joined == ["cpu:gloo,cuda:nccl", 1]
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: False)
    joined.clear()
    assert distributed.init_from_env() and joined == ["gloo"]
    monkeypatch.setenv("WORLD_SIZE", "1")
    joined.clear()
    assert not distributed.init_from_env() and joined == []


def _features_rank(rank: int, init_file: str, raw: torch.Tensor, folder: str, out: dict) -> None:
    import torch.distributed as dist

    from coredistill.data.transforms import Normalizer
    from coredistill.data.views import TrainingImages
    from coredistill.features import cached_features, create_features
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        view = TrainingImages(raw, Normalizer((0.5,), (0.25,)))
        space = create_features("random-nets", num_nets=2, width=8, batch_size=16)
        feats = cached_features(space, view, dataset_id={"name": "toy", "n": len(raw)}, seed=1, cache_dir=folder,
                                progress=False, shard=ClassShard(rank, 2))
        out[rank] = np.array(feats)
    finally:
        dist.destroy_process_group()


def test_memory_mapped_features_split_over_two_processes_equal_one(tmp_path):
    import torch.multiprocessing as mp

    from coredistill.data.transforms import Normalizer
    from coredistill.data.views import TrainingImages
    from coredistill.features import create_features
    # rows read on access, as from an .npy memmap: each net's features go into a column block of one mapped file
    # (a non-contiguous block, combined across the processes through a copy)
    raw = torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with mp.Manager() as manager:
        out = manager.dict()
        mp.spawn(_features_rank, args=(str(tmp_path / "store"), raw, str(tmp_path / "cache"), out), nprocs=2)
        ranks = [out[0], out[1]]
    whole = create_features("random-nets", num_nets=2, width=8, batch_size=16).compute(
        TrainingImages(raw, Normalizer((0.5,), (0.25,)))[:], seed=1, progress=False)
    assert np.array_equal(ranks[0], whole) and np.array_equal(ranks[1], whole)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1  # rank 0's cache entry; no temporaries left
    assert not list((tmp_path / "cache").glob(".features.*"))
