"""Running on several processes with ``torch.distributed`` (``torchrun``; NCCL on GPUs, gloo on CPU).

What is split, and why the result equals a one-process run bit for bit (CPU, nets without batch norm):

* **classes** — for the class-separable methods (DM, DC, DSA) rank r computes the matching losses of the
  classes c with c mod world = r. Every rank still draws every class's real batch indices and augmentation
  parameters (cheap) so that all random streams advance exactly as in one process; only the forward and
  backward passes — nearly all of the time — are split. A class's images get gradient only from their own
  class's term, so each rank's update of its classes is the one-process update.
* **the synthetic set** — after every optimizer step each rank's classes are combined by an all-reduce of the
  masked images (x·1 + 0 + … is exact), so every rank holds the full current set (DC/DSA train their inner
  network on all of it; the importance sampler scores with all of it). Optimizer state is combined the same
  way before a checkpoint; only rank 0 writes checkpoints and artifacts.
* **KRR methods** (kip, rfad: one linear system couples all classes) split the *real batch* by class instead:
  every process draws the same random-feature networks and solves the same small support system
  (|S| × |S|), computes the loss of its classes' real images, and the gradients (images, labels, temperature)
  are all-reduced before each step. Equal to one process up to the order of that sum (≈1e-7 relative).
* **evaluation** — the protocol's N eval nets are spread over ranks (net i on rank i mod world; each net's
  seed depends only on i) and their accuracies gathered.

* **selection features** — a network feature space (random-net embeddings, kernel random features, a user's
  encoder) is computed in fixed chunks of rows, chunk k on rank k mod world, and the rows combined by the same
  exact all-reduce: the chunks are those of one process, so the features are bit for bit the same. The ridge
  leverage of ``kernel-leverage`` is split the same way (the per-chunk Gram matrices are gathered and summed in
  chunk order, as one process sums them). The random part of a selection — k-means++ seeding of
  ``kmeans-sensitivity`` and the sampling — runs whole on every process: it draws from one stream across
  classes (splitting it by class would need a stream per class, a different — not worse — result than every
  run so far), and it is cheap beside the features (k-means sensitivity of MNIST at IPC 10: under a second).

MTT (expert training and trajectory matching) runs whole on every process; a multi-process MTT run is refused.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ClassShard:
    """Which classes this process computes: ``c % world == rank``."""

    rank: int = 0
    world: int = 1

    def owns(self, class_index: int) -> bool:
        return class_index % self.world == self.rank

    def total(self, value: float) -> float:
        """The sum of ``value`` over processes (each holds its own classes' share of a loss)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return float(t)

    def reduce_gradients(self, params) -> None:
        """Sum every parameter's gradient over processes (a parameter without one contributes zeros)."""
        if self.world == 1:
            return
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)

    def all_true(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every process (so that all of them take the same branch to a collective)."""
        if self.world == 1:
            return bool(flag)
        t = torch.tensor([int(bool(flag))], dtype=torch.int32)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return bool(t.item())

    def combine_rows(self, array: np.ndarray) -> np.ndarray:
        """In place: every process filled its own rows and left zeros elsewhere; afterwards all hold all rows
        (a sum with zeros is exact, so the rows are bit for bit those their owner computed)."""
        if self.world == 1:
            return array
        if array.flags.c_contiguous:
            dist.all_reduce(torch.from_numpy(array), op=dist.ReduceOp.SUM)
        else:  # a column block of a wider array (features written net by net) is reduced through a copy
            block = np.ascontiguousarray(array)
            dist.all_reduce(torch.from_numpy(block), op=dist.ReduceOp.SUM)
            array[...] = block
        return array

    def all_gather(self, array: np.ndarray) -> list[np.ndarray]:
        """Every process's ``array`` (same shape and dtype everywhere), in rank order."""
        if self.world == 1:
            return [array]
        t = torch.from_numpy(np.ascontiguousarray(array))
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t)
        return [p.numpy() for p in parts]

    def sync(self, tensor: torch.Tensor, labels: torch.Tensor) -> None:
        """In place: rows of each class take the values of the rank that owns that class."""
        if self.world == 1:
            return
        mask = (labels % self.world == self.rank).to(tensor.dtype).view(-1, *([1] * (tensor.ndim - 1)))
        with torch.no_grad():
            combined = tensor.detach() * mask
            dist.all_reduce(combined, op=dist.ReduceOp.SUM)
            tensor.data.copy_(combined)


def current_shard() -> ClassShard:
    """The shard of this process: the whole problem unless a process group is initialized."""
    if dist.is_available() and dist.is_initialized():
        return ClassShard(dist.get_rank(), dist.get_world_size())
    return ClassShard()


def is_main_process() -> bool:
    return current_shard().rank == 0


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1 in the environment); NCCL (plus gloo
    for CPU tensors) when CUDA is available, else gloo. Returns whether this is a multi-process run."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        # with GPUs: NCCL for CUDA tensors and gloo beside it for the small CPU collectives (losses, selection
        # features and scores live in host memory), which NCCL alone cannot carry
        cuda = torch.cuda.is_available()
        dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def gather_by_index(local: dict[int, object], shard: ClassShard) -> dict[int, object]:
    """Union of every rank's ``{index: value}`` (all ranks receive it)."""
    if shard.world == 1:
        return dict(local)
    parts: list[dict[int, object]] = [{} for _ in range(shard.world)]
    dist.all_gather_object(parts, local)
    return {k: v for part in parts for k, v in part.items()}
