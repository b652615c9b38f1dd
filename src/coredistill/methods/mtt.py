"""``mtt``: matching training trajectories (Cazenavette, Wang, Torralba, Efros & Zhu, CVPR 2022).

Each iteration samples an expert trajectory θ*_0..θ*_E from the buffer (:mod:`.experts`) and a start epoch
``min_start_epoch`` <= t < ``max_start_epoch``, then trains a student from θ*_t for ``syn_steps`` SGD steps on the
synthetic set with the learnable step size α (functional forward, unrolled so that gradients reach the images and
α):

    θ_{k+1} = θ_k − α ∇ CE(f(A(x_k); θ_k), y_k),        L = ‖θ_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖²

with M = ``expert_epochs``, x_k mini-batches of ``batch_syn`` synthetic images (all by default) and A the run's
DSA (a fresh draw per step). Images and α use SGD with momentum 0.5 (lrs ``lr_images``, ``lr_lr``); α starts at
``lr_teacher`` and is the learned evaluation lr of the result. ``memory="checkpoint"`` recomputes each unrolled
step in the backward pass instead of storing its activations (peak memory of one step instead of N, ~2× time).

Which segment of the experts' training is matched sets the difficulty of what the images learn: early epochs carry
the easy, common patterns, later ones the hard examples (DATM, Guo et al. ICLR 2024: early segments for small IPC,
later ones for large). ``min_start_epoch`` moves the window; ``initial_max_start_epoch`` makes it grow, DATM's
sequential generation: the bound starts there and rises linearly to ``max_start_epoch`` over
``expansion_iterations`` iterations (the run's, by default), so the images learn easy segments first.
``drop_params`` leaves out of the loss the fraction of parameters the student already matches best — PAD's
parameter selection (Li et al., "Prioritize Alignment in Dataset Distillation", 2024, its ``loss_ratio``), so that
the images learn what the student still misses; PAD's CIFAR-10 configs drop half at IPC 10 and 50, none at IPC 1.
``max_experts`` matches only the buffer's first that many trajectories (the ablation flags of MTT's code,
``--max_files`` / ``--max_experts``): a smaller buffer for an experiment, without training another.
``soft_labels=True`` learns the labels too, as DATM: each image's label starts as the mean logits of the experts'
final networks that classify it correctly (:func:`initial_label_logits`), the student trains on their softmax
(soft cross-entropy), they are learned beside the images (SGD, lr ``lr_labels``, momentum 0.9), and the result's
soft labels are their softmax, on which the evaluation trains.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.func import functional_call
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from ..errors import DivergenceError, invalid
from ..params import BOOL, LEARNING_RATE, NON_NEGATIVE_INT, POSITIVE_INT, fraction, one_of, optional
from ..models import create_model
from .base import METHODS, Context, Method
from .experts import ExpertBuffer

MEMORY_MODES = ("unrolled", "checkpoint")


def start_epoch_bounds(iteration: int, *, min_start_epoch: int, max_start_epoch: int,
                       initial_max_start_epoch: int | None = None, expansion_iterations: int = 1) -> tuple[int, int]:
    """The start epochs drawn at ``iteration`` (0-based): ``[low, high)``. Without ``initial_max_start_epoch`` the
    window is fixed; with it, ``high`` rises linearly from it to ``max_start_epoch`` over ``expansion_iterations``
    (floored to whole epochs), then stays there.

    >>> [start_epoch_bounds(i, min_start_epoch=0, max_start_epoch=20, initial_max_start_epoch=10,
    ...                     expansion_iterations=100)[1] for i in (0, 50, 99, 100, 500)]
    [10, 15, 19, 20, 20]
    """
    if initial_max_start_epoch is None:
        return min_start_epoch, max_start_epoch
    grown = (max_start_epoch - initial_max_start_epoch) * iteration // expansion_iterations
    return min_start_epoch, min(initial_max_start_epoch + grown, max_start_epoch)


def initial_label_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """DATM's starting labels from experts' logits ``(experts, N, K)`` on N images of classes ``labels``: per image,
    the mean logits of the experts that classify it as its class; where none does, the mean over all experts (DATM
    divides by zero there).

    >>> logits = torch.tensor([[[2., 0.], [0., 1.]], [[4., 1.], [3., 0.]]])  # 2 experts, 2 images, 2 classes
    >>> initial_label_logits(logits, torch.tensor([0, 1])).tolist()  # image 0: both right; image 1: expert 0 only
    [[3.0, 0.5], [0.0, 1.0]]
    """
    correct = (logits.argmax(2) == labels.view(1, -1)).unsqueeze(2).to(logits.dtype)
    count = correct.sum(0)
    mean_correct = (logits * correct).sum(0) / count.clamp_min(1)
    return torch.where(count > 0, mean_correct, logits.mean(0))


def trajectory_loss(student: torch.Tensor, start: torch.Tensor, target: torch.Tensor,
                    drop: float = 0.0) -> torch.Tensor:
    """‖θ_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖² (MTT's normalized parameter distance), both sums over the parameters
    kept: with ``drop`` > 0 the ⌊drop·P⌋ of the P parameters the student already matches best (smallest
    (θ_N − θ*_{t+M})²) are left out of numerator and denominator alike (PAD's parameter selection).

    >>> start, target = torch.zeros(4), torch.ones(4)
    >>> student = torch.tensor([1.0, 1.0, 0.5, 0.0])  # errors 0, 0, 0.25, 1
    >>> float(trajectory_loss(student, start, target)), float(trajectory_loss(student, start, target, drop=0.5))
    (0.3125, 0.625)
    """
    error = (student - target) ** 2
    distance = (start - target) ** 2
    dropped = int(drop * error.numel())
    if dropped:
        keep = torch.topk(error.detach(), error.numel() - dropped, sorted=False).indices
        error, distance = error[keep], distance[keep]
    return error.sum() / distance.sum().clamp_min(1e-30)


@METHODS.decorator("mtt")
class MTT(Method):
    lr_images = 100.0
    eval_dsa = True
    uses_dsa = True
    needs_experts = True
    # chosen on validation splits (benchmarks/results/aligned-rule.md): uniform expert batches at both budgets (the
    # teacher's easy batches did not gain on average, its hard ones lost)
    aligned_sampling = {1: None, 10: None}
    labels_momentum = 0.9  # DATM's, on its learned labels
    # DATM's options came after runs were stored: at their defaults they stay out of options() (checkpoint keys)
    added_options = ("min_start_epoch", "initial_max_start_epoch", "expansion_iterations", "soft_labels",
                     "lr_labels", "drop_params", "max_experts")

    def __init__(self, experts: str | None = None, iterations: int = 5000, syn_steps: int = 20,
                 expert_epochs: int = 2, max_start_epoch: int = 20, lr_images: float = 100.0, lr_lr: float = 1e-5,
                 lr_teacher: float = 0.01, batch_syn: int | None = None, memory: str = "unrolled",
                 min_start_epoch: int = 0, initial_max_start_epoch: int | None = None,
                 expansion_iterations: int | None = None, soft_labels: bool = False, lr_labels: float = 2.0,
                 drop_params: float = 0.0, max_experts: int | None = None) -> None:
        self.experts = experts
        self.iterations = iterations
        self.syn_steps = syn_steps
        self.expert_epochs = expert_epochs
        self.max_start_epoch = max_start_epoch
        self.lr_images = lr_images
        self.lr_lr = lr_lr
        self.lr_teacher = lr_teacher
        self.batch_syn = batch_syn
        self.memory = memory
        self.min_start_epoch = min_start_epoch
        self.initial_max_start_epoch = initial_max_start_epoch
        self.expansion_iterations = expansion_iterations
        self.soft_labels = soft_labels
        self.lr_labels = lr_labels
        self.drop_params = drop_params
        self.max_experts = max_experts

    constraints = {"syn_steps": POSITIVE_INT, "expert_epochs": POSITIVE_INT, "max_start_epoch": POSITIVE_INT,
                   "batch_syn": optional(POSITIVE_INT),  # None: all synthetic images
                   "memory": one_of(*MEMORY_MODES), "lr_lr": LEARNING_RATE, "lr_teacher": LEARNING_RATE,
                   "min_start_epoch": NON_NEGATIVE_INT,
                   "initial_max_start_epoch": optional(POSITIVE_INT),  # None: a fixed window
                   "expansion_iterations": optional(POSITIVE_INT),  # None: the run's iterations
                   "soft_labels": BOOL, "lr_labels": LEARNING_RATE,
                   "drop_params": fraction(closed_right=False).describe(
                       "a fraction in [0, 1) of the parameters to leave out of the loss"),
                   "max_experts": optional(POSITIVE_INT)}  # None: every trajectory of the buffer

    def check(self) -> None:
        super().check()
        if self.min_start_epoch >= self.max_start_epoch:
            raise invalid("min_start_epoch", self.min_start_epoch,
                          f"less than max_start_epoch={self.max_start_epoch} (the window of start epochs is "
                          "[min_start_epoch, max_start_epoch))")
        if self.initial_max_start_epoch is not None and not (
                self.min_start_epoch < self.initial_max_start_epoch <= self.max_start_epoch):
            raise invalid("initial_max_start_epoch", self.initial_max_start_epoch,
                          f"above min_start_epoch={self.min_start_epoch} and at most max_start_epoch="
                          f"{self.max_start_epoch} (the window's upper bound grows from it to max_start_epoch)")
        if self.experts is None:
            raise invalid("experts", None, "an expert buffer folder (build one with `coredistill experts`)")
        buffer = ExpertBuffer(self.experts)
        if self.max_experts is not None and self.max_experts > len(buffer):
            raise invalid("max_experts", self.max_experts, f"at most the buffer's {len(buffer)} expert trajectories "
                          f"({self.experts})")
        if self.max_start_epoch + self.expert_epochs > buffer.epochs:
            raise invalid("max_start_epoch", self.max_start_epoch, f"at most {buffer.epochs - self.expert_epochs} "
                          f"(the buffer's {buffer.epochs} epochs minus expert_epochs={self.expert_epochs})")

    def setup(self, images, labels, ctx: Context) -> None:
        self._buffer = ExpertBuffer(self.experts)
        self._num_experts = len(self._buffer) if self.max_experts is None else min(self.max_experts, len(self._buffer))
        cfg = self._buffer.config
        shape = tuple(images.shape[1:])
        if list(shape) != self._buffer.manifest["image_shape"] or ctx.num_classes != self._buffer.manifest[
                "num_classes"]:
            raise invalid("experts", self.experts, f"a buffer trained on images of shape {list(shape)} with "
                          f"{ctx.num_classes} classes (it has {self._buffer.manifest['image_shape']}, "
                          f"{self._buffer.manifest['num_classes']} classes)")
        dataset = ctx.real.identity
        if dataset is not None and any(cfg["dataset"].get(k) != dataset.get(k) for k in ("fingerprint", "zca_eps")):
            raise invalid("experts", self.experts, "experts trained on this data set in the same normalization "
                          f"(buffer: {cfg['dataset'].get('name')}, zca_eps={cfg['dataset'].get('zca_eps')})")
        self._net = create_model(cfg["model"], shape[0], ctx.num_classes, shape[1:], seed=0,
                                 **cfg["model_options"]).to(ctx.device)
        self._names = [n for n, _ in self._net.named_parameters()]
        self._shapes = [p.shape for _, p in self._net.named_parameters()]
        self._lr = torch.tensor(float(self.lr_teacher), device=ctx.device, requires_grad=True)
        self._label_logits = None
        if self.soft_labels:
            start = initial_label_logits(self._expert_logits(images.detach()), labels)
            self._initial_agreement = float((start.argmax(1) == labels).float().mean())
            self._label_logits = start.clone().requires_grad_(True)

    def _expert_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Every expert's final network's logits on ``images``: (experts, N, K)."""
        with torch.no_grad():
            return torch.stack([
                torch.cat([functional_call(self._net, self._unflatten(self._buffer.trajectory(e)[-1].to(
                    images.device)), (chunk,)) for chunk in images.split(256)])
                for e in range(self._num_experts)])

    def extra_parameters(self) -> list[dict[str, Any]]:
        groups = [{"params": [self._lr], "lr": self.lr_lr}]
        if self._label_logits is not None:
            groups.append({"params": [self._label_logits], "lr": self.lr_labels, "momentum": self.labels_momentum})
        return groups

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"lr": float(self._lr.detach())}
        if self._label_logits is not None:
            state["label_logits"] = self._label_logits.detach().cpu().clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self._lr.fill_(state["lr"])
            if self._label_logits is not None:
                self._label_logits.copy_(state["label_logits"].to(self._label_logits.device))

    def _unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        out, i = {}, 0
        for name, shape in zip(self._names, self._shapes):
            n = shape.numel()
            out[name] = flat[i:i + n].view(shape)
            i += n
        return out

    def _step(self, params: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(functional_call(self._net, self._unflatten(params), (x,)), y)
        (grad,) = torch.autograd.grad(ce, params, create_graph=True)
        return params - lr * grad

    def _check_lr(self) -> None:
        """A step size learned to zero or below makes the student climb its loss (MTT's code lets it, and the run
        ends in NaN images): stop at the first step that crosses, with the option to change."""
        lr = float(self._lr.detach())
        if not lr > 0:
            raise DivergenceError(f"learned step size={lr:.3g}: expected a positive step size (the student would "
                                  f"ascend its loss); try a lower lr_lr than {self.lr_lr} or a lower lr_images than "
                                  f"{self.lr_images}")

    def losses(self, syn, labels, ctx: Context):
        self._check_lr()
        expert = int(ctx.rng.integers(self._num_experts))
        low, high = self._window(ctx.iteration, ctx.iterations)
        start_epoch = int(ctx.rng.integers(low, high))
        trajectory = self._buffer.trajectory(expert).to(ctx.device)
        start, target = trajectory[start_epoch], trajectory[start_epoch + self.expert_epochs]
        params = start.clone().requires_grad_(True)
        batch = self.batch_syn or len(syn)
        targets = labels if self._label_logits is None else torch.softmax(self._label_logits, 1)
        chunks: list[torch.Tensor] = []
        for _ in range(self.syn_steps):
            if not chunks:
                chunks = list(torch.randperm(len(syn), generator=ctx.generator).to(syn.device).split(batch))
            idx = chunks.pop()
            x = ctx.augment(syn[idx])
            if self.memory == "checkpoint":
                params = checkpoint(self._step, params, x, targets[idx], self._lr, use_reentrant=False)
            else:
                params = self._step(params, x, targets[idx], self._lr)
        yield trajectory_loss(params, start, target, self.drop_params)

    def _window(self, iteration: int, iterations: int) -> tuple[int, int]:
        return start_epoch_bounds(iteration, min_start_epoch=self.min_start_epoch,
                                  max_start_epoch=self.max_start_epoch,
                                  initial_max_start_epoch=self.initial_max_start_epoch,
                                  expansion_iterations=self.expansion_iterations or max(iterations, 1))

    def finish(self, out, ctx) -> None:
        self._check_lr()
        if self.initial_max_start_epoch is not None:
            out.log["start_epochs"] = {"first": list(self._window(0, ctx.iterations)),
                                       "last": list(self._window(max(ctx.iterations - 1, 0), ctx.iterations))}
        out.learned_lr = float(self._lr.detach())
        if self._label_logits is not None:
            out.soft_labels = torch.softmax(self._label_logits.detach(), 1).cpu()
            # how many images' labels name their own class, from the experts' logits and after learning them
            out.log["soft_labels"] = {"initial_agreement": self._initial_agreement, "final_agreement": float(
                (out.soft_labels.argmax(1) == out.labels.cpu()).float().mean())}
        out.log["expert_buffer"] = {"folder": str(self.experts), "config": self._buffer.config,
                                    "experts": self._num_experts}
