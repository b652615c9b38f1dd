"""What a distillation method sees: the real data, a batch sampler, randomness and the matching network.

A method implements only :meth:`Method.losses`: a generator yielding the matching losses of one iteration
(one for DM; one per outer step for DC/DSA). The shared loop (:mod:`.loop`) owns the synthetic tensor, its
optimizer, iterations, evaluation, checkpoints and logging, and takes one optimizer step per yielded loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ..augment import DSA
from ..data.dataset import ImageDataset
from ..distributed import ClassShard
from ..models import create_model
from ..params import LEARNING_RATE, POSITIVE_INT, Params
from ..registry import Registry
from ..sampling import BatchSampler, ScoringContext


@dataclass
class RealData:
    """The real train set in the training space (normalized, ZCA'd if used) and its class structure."""

    images: torch.Tensor
    labels: torch.Tensor
    dataset: ImageDataset
    identity: dict[str, Any] | None = None  # data set description + fingerprint + zca_eps (what experts must match)


@dataclass
class DistillOutput:
    images: torch.Tensor
    labels: torch.Tensor
    soft_labels: torch.Tensor | None = None
    learned_lr: float | None = None
    log: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClassBatch:
    """One class's real batch (with importance weights, if the sampler gives them) and its synthetic images, the
    two augmented with one Siamese draw when the run augments."""

    label: int
    real: torch.Tensor
    weights: torch.Tensor | None
    syn: torch.Tensor | None


class ClassBatches:
    """Iterates the :class:`ClassBatch` of every class this process computes. Under torch.distributed a class
    another process computes is skipped with its random draws, so that every process's streams stay aligned and
    method code never sees the split; ``total`` then counts the real images of every class drawn so far."""

    def __init__(self, ctx: "Context", batch_size: int, syn: torch.Tensor | None) -> None:
        self._ctx, self._batch_size, self._syn = ctx, batch_size, syn
        self.total = 0

    def __iter__(self) -> Iterator[ClassBatch]:
        ctx = self._ctx
        for c in range(ctx.num_classes):
            if not ctx.owns(c):
                self.total += ctx.skip_class(c, self._batch_size, augment=self._syn is not None)
                continue
            xr, w = ctx.real_batch(c, self._batch_size)
            self.total += len(xr)
            xs = None
            if self._syn is not None:
                xr, xs = ctx.augment(xr, self._syn[ctx.class_slice(c)])
            yield ClassBatch(c, xr, w, xs)


@dataclass
class Context:
    """Everything a method may use during one run. Randomness comes only from ``rng`` (real batches, numpy)
    and ``generator`` (networks and augmentation, torch); both are checkpointed by the loop."""

    real: RealData
    num_classes: int
    ipc: int
    sampler: BatchSampler
    rng: np.random.Generator
    generator: torch.Generator
    device: torch.device
    model: str = "ConvNet"
    model_options: dict[str, Any] = field(default_factory=dict)
    dsa: DSA | None = None
    shard: ClassShard = field(default_factory=ClassShard)  # the classes this process computes (torch.distributed)
    # the loop's position, set before each iteration's losses() (0-based, of ``iterations``): for a method whose
    # draws follow a schedule across the run (MTT's growing window of start epochs)
    iteration: int = 0
    iterations: int = 0

    def owns(self, class_index: int) -> bool:
        """Whether this process computes class ``class_index``'s losses (always, outside torch.distributed)."""
        return self.shard.owns(class_index)

    def class_batches(self, batch_size: int, syn: torch.Tensor | None = None) -> ClassBatches:
        """The real batch of every class (and, with ``syn``, its synthetic images, augmented together)."""
        return ClassBatches(self, batch_size, syn)

    def skip_class(self, class_index: int, batch_size: int, augment: bool = True) -> int:
        """Advance the random streams exactly as ``real_batch(c)`` (followed by a Siamese ``augment`` when
        ``augment``) would, without loading or transforming anything: what a process does for a class another
        process computes. Returns the size the real batch would have had."""
        idx, _ = self.sampler.sample(class_index, batch_size, self.rng)
        if augment and self.dsa is not None:
            self.dsa.sample(1, tuple(self.real.images.shape[-2:]), self.generator)
        return len(idx)

    def scoring(self, predictor: Any = None) -> ScoringContext:
        """What the run's batch sampler may see when it scores real examples."""
        return ScoringContext(self.real.images, self.num_classes, self.device, self.model, self.model_options,
                              predictor, self.real.labels, self.real.identity)

    def real_batch(self, class_index: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx, weights = self.sampler.sample(class_index, batch_size, self.rng)
        x = self.real.images[torch.from_numpy(np.asarray(idx))].to(self.device)
        w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=self.device)
        return x, w

    def class_slice(self, class_index: int) -> slice:
        return slice(class_index * self.ipc, (class_index + 1) * self.ipc)

    def next_seed(self) -> int:
        return int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator))

    def new_net(self) -> nn.Module:
        """A freshly initialized matching network (seeded from the run's generator)."""
        images = self.real.images
        return create_model(self.model, images.shape[1], self.num_classes, tuple(images.shape[2:]),
                            seed=self.next_seed(), **self.model_options).to(self.device)

    def augment(self, *tensors: torch.Tensor):
        """Siamese DSA (one parameter draw for all tensors) when the run uses augmentation, else identity."""
        if self.dsa is None:
            return tensors if len(tensors) > 1 else tensors[0]
        return self.dsa(*tensors, generator=self.generator)


class Method(Params):
    """A distillation method. Subclasses store options in ``__init__`` and implement :meth:`losses`.

    Class attributes: ``lr_images`` (SGD lr on the images, momentum 0.5 as the field), ``eval_dsa`` (whether
    the field evaluates this method with DSA), ``uses_dsa`` (augmentation during matching), ``needs_experts``
    (learns from expert trajectories rather than real batches), ``parallel`` (how torch.distributed splits it).

    Optional hooks, all with neutral defaults, for methods that learn more than images (KRR methods learn labels
    and a temperature; MTT a step size): :meth:`setup` (before the loop), :meth:`images_of` (a
    reparameterization of the images), :meth:`extra_parameters` (more
    optimizer groups), :meth:`make_optimizer`, :meth:`state_dict` / :meth:`load_state_dict` (checkpointed with
    the run), :meth:`finish` (fill the output), :meth:`metrics` (the method's own test metrics).
    """

    lr_images: float = 0.1
    eval_dsa: bool = False
    uses_dsa: bool = False
    iterations: int = 0
    # whether the method learns from expert trajectories (MTT) instead of real batches: the pipeline builds them
    # (RunConfig.experts), and a run's batch sampler then drives expert training
    needs_experts: bool = False
    # how torch.distributed splits this method across processes (see coredistill.distributed): "classes" — losses()
    # computes only ctx.owns(c) classes' terms (while drawing every class's randomness) and the images of each class
    # are combined after each step; "gradients" — losses() yields this process's share of one loss over all
    # images and the gradients are all-reduced before each step; None — runs in one process only
    parallel: str | None = None
    # the relative-loss options its validation runs chose per IPC ({ipc: options}), for sampler="aligned" and
    # gamma="auto" (coredistill.sampling.alignment; benchmarks/aligned_rule.py); empty: no validated rule
    aligned_sampling: dict[int, dict] = {}

    def losses(self, syn: torch.Tensor, labels: torch.Tensor, ctx: Context) -> Iterator[torch.Tensor]:
        return iter(())

    def selection_space(self):
        """The feature space in which this method works, for initializers that need features (``None``: the
        initializer's default). KRR methods return their kernel's feature map."""
        return None

    def setup(self, images: torch.Tensor, labels: torch.Tensor, ctx: Context) -> None:
        """Called once before the loop (and before a resume restores state)."""

    def predictor(self):
        """The predictor the current synthetic set induces under this method, if the method has its own (a KRR
        fit); ``None`` lets an importance sampler train its proxy. Called after :meth:`setup`."""
        return None

    def images_of(self, syn: torch.Tensor) -> torch.Tensor:
        """The distilled images the optimized tensor ``syn`` stands for: ``syn`` itself unless the method
        reparameterizes its images (RFAD's code learns a linear map of them). The loop evaluates, scores and
        returns these; a method's :meth:`losses` applies it to ``syn`` itself, keeping the gradient."""
        return syn

    def extra_parameters(self) -> list[dict[str, Any]]:
        """Optimizer groups besides the images, e.g. ``[{"params": [labels], "lr": 0.01}]``."""
        return []

    def make_optimizer(self, groups: list[dict[str, Any]], momentum: float) -> torch.optim.Optimizer:
        """The field's optimizer on images: SGD with momentum (0.5), lr per group."""
        return torch.optim.SGD(groups, lr=self.lr_images, momentum=momentum)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def finish(self, out: "DistillOutput", ctx: Context) -> None:
        """Complete the output after the last iteration (learned labels, learned lr, log entries)."""

    def metrics(self, images: torch.Tensor, labels: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                ctx: Context, seed: int) -> dict[str, dict[str, Any]]:
        """The method's own test metrics besides the protocol's (e.g. KRR accuracy), keyed like evaluations."""
        return {}

    constraints = {"iterations": POSITIVE_INT, "batch_real": POSITIVE_INT, "lr_images": LEARNING_RATE}

    def check(self) -> None:
        """Validate options (called before any work): the declared constraints, then what a method adds."""
        self.check_params()


METHODS: Registry[type[Method]] = Registry("method")  # entries register where they are defined


def weighted_mean(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over the batch; with importance weights w_i = b/(n·π_i) the Horvitz–Thompson mean (1/b)·Σ w·x,
    an unbiased estimate of the class mean (not self-normalized: Σ w x / Σ w would be biased for small b)."""
    if weights is None:
        return x.mean(0)
    return (weights.view(-1, *([1] * (x.ndim - 1))) * x).mean(0)
