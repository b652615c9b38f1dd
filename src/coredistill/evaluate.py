"""The field's evaluation protocol: train fresh nets on a (distilled) set, report final-epoch test accuracy.

SGD (momentum 0.9, weight decay 5e-4, lr 0.01 unless a learned lr is given), batch 256, cross-entropy,
lr x0.1 at half the epochs, optional DSA with per-image parameters; mean ± std over nets of the accuracy
after the *last* epoch (never the best epoch: that would select on the test set).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .augment import DSA, PerImageAugment, default_strategy
from .device import resolve_device
from .distributed import current_shard, gather_by_index
from .errors import invalid
from .models import create_model
from .models.base import has_batch_norm
from .models.compiled import compiled_call
from .models.footprint import cache_chunk
from .models.stacked import StackedNets, unsupported_reason
from .params import CLASS_COUNT
from .presets import Preset, get_preset
from .seeding import spawn, torch_generator


class NetAccuracies:
    """Mean and (population) standard deviation of a result's per-net ``accuracies``."""

    accuracies: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))


@dataclass
class EvalResult(NetAccuracies):
    """Accuracies of ``len(accuracies)`` independently initialized nets of one architecture."""

    model: str
    accuracies: list[float]
    epochs: int
    dsa: bool
    preset: str
    seconds: float
    net_seeds: list[int] = field(default_factory=list)
    # "sequential" (one net after another) or "ensembled" (the nets of this process trained as one stacked model);
    # fallback says why an asked-for ensemble ran sequentially
    mode: str = "sequential"
    fallback: str | None = None
    compiled: bool = False  # each net's training step ran through one torch.compile (models.compiled)
    augment: str | None = None  # the per-image augmentation's strategy, when the nets trained under it (no DSA)

    def to_dict(self) -> dict:
        return {**asdict(self), "mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d: dict) -> "EvalResult":
        """Back from :meth:`to_dict` (as stored in a manifest); fields a manifest lacks take their defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def __str__(self) -> str:
        return f"{self.model}: {100 * self.mean:.2f} ± {100 * self.std:.2f} % ({len(self.accuracies)} nets)"


def _check_training_set(x: torch.Tensor, y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                        num_classes: int) -> None:
    for name, value in (("images", x), ("labels", y), ("test_images", test_x), ("test_labels", test_y)):
        if not isinstance(value, torch.Tensor):
            raise invalid(name, type(value).__name__, "a torch.Tensor (torch.from_numpy converts an array)")
    CLASS_COUNT.check("num_classes", num_classes)
    if x.ndim != 4 or len(x) == 0:
        raise invalid("images", tuple(x.shape), "a non-empty batch (N, C, H, W)")
    if x.shape[1:] != test_x.shape[1:]:
        raise invalid("images", tuple(x.shape), f"images shaped like the test set (N, {', '.join(map(str, test_x.shape[1:]))})")
    if not torch.isfinite(x).all():
        raise invalid("images", "tensor with NaN/Inf", "finite values")
    if y.ndim == 1:
        if len(y) != len(x) or y.dtype not in (torch.int64, torch.int32):
            raise invalid("labels", f"{y.dtype} tensor of shape {tuple(y.shape)}", f"{len(x)} integer labels")
        _check_class_range("labels", y, num_classes)
    elif y.ndim == 2:
        if y.shape != (len(x), num_classes) or not torch.isfinite(y).all():
            raise invalid("labels", f"soft labels of shape {tuple(y.shape)}", f"finite ({len(x)}, {num_classes})")
    else:
        raise invalid("labels", tuple(y.shape), "(N,) class indices or (N, num_classes) soft labels")
    if test_y.ndim != 1 or len(test_y) != len(test_x) or test_y.is_floating_point():
        raise invalid("test_labels", f"{test_y.dtype} tensor of shape {tuple(test_y.shape)}",
                      f"{len(test_x)} integer labels")
    _check_class_range("test_labels", test_y, num_classes)


def _check_class_range(name: str, y: torch.Tensor, num_classes: int) -> None:
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise invalid(name, f"classes {int(y.min())}..{int(y.max())}", f"class indices in 0..{num_classes - 1} "
                      f"(num_classes={num_classes})")


def _lr_at(epoch: int, epochs: int, lr: float) -> float:
    return lr * 0.1 if epoch >= epochs // 2 > 0 else lr


# evaluate(compiled="auto") never compiles on the CPU: on a quiet machine compiled training ran at about the eager
# path's speed, sometimes slower (benchmarks/results/throughput/eval_compiled_cpu_1thread.md; docs/throughput.md).
# Elsewhere it compiles evaluations that train on at least this many images in all (nets x epochs x set size), so
# that the compilation is a small share: a first estimate, unmeasured (no GPU has been lent so far)
COMPILE_FROM_IMAGES = 50_000


def compile_pays(device: torch.device, images: int) -> bool:
    """``compiled="auto"``'s rule: compile an evaluation on ``device`` that trains on ``images`` images in all?"""
    return device.type != "cpu" and images >= COMPILE_FROM_IMAGES


def _cross_entropy(module, x: torch.Tensor, y: torch.Tensor, reduction: str) -> torch.Tensor:
    return F.cross_entropy(module(x), y, reduction=reduction)


def _batch_loss(loss_of, xb: torch.Tensor, yb: torch.Tensor, chunk: int) -> None:
    """Backward of the batch's mean cross-entropy ``loss_of(x, y, reduction)``, in chunks of ``chunk`` images when
    the batch is larger (the same gradient up to float summation order; per-sample layers only)."""
    if len(xb) <= chunk:
        loss_of(xb, yb, "mean").backward()
        return
    for start in range(0, len(xb), chunk):
        part = slice(start, start + chunk)
        (loss_of(xb[part], yb[part], "sum") / len(xb)).backward()


def train_net(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float,
              momentum: float = 0.9, weight_decay: float = 5e-4, batch_size: int = 256,
              augment: DSA | PerImageAugment | None = None,
              generator: torch.Generator, progress: tqdm | None = None, compiled: bool = False) -> torch.nn.Module:
    """The protocol's training: SGD with momentum and weight decay, lr x0.1 at half the epochs, cross-entropy
    (hard or soft labels), reshuffled mini-batches drawn from ``generator``, optional augmentation with per-image
    draws (DSA, or the field's plain :class:`~coredistill.augment.PerImageAugment`).
    ``compiled=True`` runs forward and backward through one compilation per architecture
    (:func:`~coredistill.models.compiled.compiled_call`; same draws, results equal up to float tolerance).

    A batch whose activations outgrow the CPU's cache is forwarded in cache-sized chunks with accumulated
    gradients (:func:`~coredistill.models.footprint.cache_chunk`; never for batch norm, whose statistics are
    per batch)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    device = x.device
    n = len(x)
    chunk = cache_chunk(model, batch_size) if device.type == "cpu" and not has_batch_norm(model) else batch_size
    if compiled:
        loss_of = compiled_call(model, _cross_entropy, "evaluate.cross_entropy")
    else:
        def loss_of(xb, yb, reduction):
            return _cross_entropy(model, xb, yb, reduction)
    model.train()
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = _lr_at(epoch, epochs, lr)
        order = torch.randperm(n, generator=generator).to(device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = x[idx], y[idx]
            if augment is not None:
                xb = augment(xb, generator=generator, siamese=False)
            opt.zero_grad(set_to_none=True)
            _batch_loss(loss_of, xb, yb, chunk)
            opt.step()
        if progress is not None:
            progress.update(1)
    return model


def train_stacked(nets: Sequence[torch.nn.Module], x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float,
                  momentum: float = 0.9, weight_decay: float = 5e-4, batch_size: int = 256,
                  augment: DSA | PerImageAugment | None = None, generators: Sequence[torch.Generator],
                  progress: tqdm | None = None) -> StackedNets:
    """:func:`train_net` for several nets at once, as one :class:`~coredistill.models.stacked.StackedNets`.

    Net i draws its shuffling and its augmentation from ``generators[i]`` in the order :func:`train_net` does,
    and its SGD state is its own slice of the stacked parameters: each net follows its sequential trajectory
    up to float summation order (grouped instead of single convolutions)."""
    stacked = StackedNets(nets)
    opt = torch.optim.SGD(stacked.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    device, n = x.device, len(x)
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = _lr_at(epoch, epochs, lr)
        orders = [torch.randperm(n, generator=g).to(device) for g in generators]
        for start in range(0, n, batch_size):
            xs, ys = [], []
            for order, g in zip(orders, generators):
                idx = order[start:start + batch_size]
                xb = x[idx]
                xs.append(augment(xb, generator=g, siamese=False) if augment is not None else xb)
                ys.append(y[idx])
            logits = stacked(torch.stack(xs))
            # sum over nets of each net's mean loss: net i's gradient is its own loss's gradient
            loss = sum(F.cross_entropy(out, yb) for out, yb in zip(logits, ys))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if progress is not None:
            progress.update(len(nets))
    stacked.write_back(nets)
    return stacked


@torch.inference_mode()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int | None = None) -> float:
    """Test accuracy, forwarded in cache-sized chunks (``batch_size`` overrides)."""
    was_training = model.training
    model.eval()
    if batch_size is None:
        batch_size = cache_chunk(model, unknown=256)
    correct = 0
    for start in range(0, len(x), batch_size):
        correct += int((model(x[start:start + batch_size]).argmax(1) == y[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / max(len(x), 1)


def stack_pays(net: torch.nn.Module, nets: int, batch: int, device: torch.device) -> bool:
    """Whether stacking ``nets`` nets is expected to be faster than one after another: on the CPU, when the
    stacked batch's activations still fit the cache budget of one chunk (small distilled sets; measured in
    ``benchmarks/throughput.py``). Elsewhere unmeasured so far: no."""
    return device.type == "cpu" and nets * batch <= cache_chunk(net, unknown=0)


def evaluate(images: torch.Tensor, labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor, *,
             num_classes: int, model: str = "ConvNet", preset: str | Preset = "cpu", nets: int | None = None,
             epochs: int | None = None, dsa: bool | None = None, dsa_strategy: str | None = None,
             augment_without_dsa: str | None = None, lr: float | None = None, seed: int = 0, device: str | torch.device | None = None,
             ensemble: bool | str | None = None, compiled: bool | str | None = None,
             done: Mapping[int, float] | None = None, on_net: Callable[[int, float], None] | None = None,
             progress: bool = True) -> EvalResult:
    """Train ``nets`` fresh ``model`` nets on ``(images, labels)`` and test each on the test set.

    Images of both sets must be in the same (normalized, possibly ZCA-whitened) space. ``preset`` supplies
    every default; explicit arguments override it. Nets that train without DSA train under
    ``augment_without_dsa`` when given: a :class:`~coredistill.augment.PerImageAugment` strategy (the field's DC
    evaluation of MNIST: ``"crop_scale_rotate"``, :meth:`Preset.augment_without_dsa`). ``ensemble=True`` trains the nets as one stacked model
    (:func:`train_stacked`: the same per-net seeds, shuffling, augmentation and optimizer state, results equal up
    to float summation order); ``"auto"`` does so when the stacked batch still fits the CPU's cache
    (:func:`stack_pays`); architectures that cannot be stacked fall back to one net after another, and the
    result says so (``mode``, ``fallback``). ``compiled=True`` compiles each net's training step (one compilation
    for all nets of the architecture; results equal up to float tolerance); ``"auto"`` follows
    :func:`compile_pays` (never on the CPU, where it does not pay); never for stacked nets or batch norm
    (``compiled`` in the result says whether it ran).

    Net i depends only on its own seed, so an evaluation can continue where a stopped one left off: ``done`` maps
    the index of a net already trained to its test accuracy (that net is not trained again), and ``on_net(i,
    accuracy)`` is called as each net this process trains is tested (what :class:`~coredistill.methods.checkpoint.
    EvalProgress` stores). ``seconds`` is then this call's time only.

    >>> import torch
    >>> x, y = torch.randn(20, 1, 8, 8), torch.arange(20) % 2
    >>> r = evaluate(x, y, x, y, num_classes=2, preset="tiny", nets=1, epochs=2, progress=False)
    >>> len(r.accuracies)
    1
    """
    p = get_preset(preset)
    nets = p.eval_nets if nets is None else nets
    use_dsa = p.eval_dsa if dsa is None else bool(dsa)
    epochs = p.epochs(use_dsa) if epochs is None else epochs
    lr = p.lr if lr is None else float(lr)
    for pname, value in (("nets", nets), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid(pname, value, "a positive integer")
    if not (lr > 0 and np.isfinite(lr)):
        raise invalid("lr", lr, "a positive finite learning rate")
    _check_training_set(images, labels, test_images, test_labels, num_classes)
    dev = resolve_device(device)
    x, y = images.detach().float().to(dev), labels.detach().to(dev)
    y = y.long() if y.ndim == 1 else y.float()
    tx, ty = test_images.float().to(dev), test_labels.long().to(dev)
    plain = None if use_dsa or not augment_without_dsa else augment_without_dsa
    augment = DSA(strategy=dsa_strategy or default_strategy(True)) if use_dsa else (
        PerImageAugment(plain) if plain else None)
    options = p.model_options if model == p.model else {}
    ensemble = p.eval_ensemble if ensemble is None else ensemble
    if ensemble not in (True, False, "auto"):
        raise invalid("ensemble", ensemble, "True, False or 'auto'")
    compiled = p.eval_compiled if compiled is None else compiled
    if compiled not in (True, False, "auto"):
        raise invalid("compiled", compiled, "True, False or 'auto'")
    done = dict(done or {})
    for i, acc in done.items():
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < nets or not 0.0 <= float(acc) <= 1.0:
            raise invalid("done", {i: acc}, f"net indices in 0..{nets - 1} mapped to accuracies in [0, 1]")
    seeds = spawn(seed, nets)
    start = time.perf_counter()
    # disable=None: tqdm turns itself off when stderr is not a terminal (logs stay readable)
    bar = tqdm(total=nets * epochs, desc=f"eval {model}", unit="ep", disable=None if progress else True, leave=False)
    shard = current_shard()  # under torch.distributed: net i on process i mod world, accuracies gathered
    mine = [i for i in range(len(seeds)) if shard.owns(i) and i not in done]
    bar.update(epochs * sum(shard.owns(i) for i in done))
    built = {i: create_model(model, images.shape[1], num_classes, tuple(images.shape[2:]), seed=seeds[i],
                             **options).to(dev) for i in mine}
    train = dict(epochs=epochs, lr=lr, momentum=p.momentum, weight_decay=p.weight_decay, batch_size=p.batch_size,
                 augment=augment, progress=bar)
    if ensemble == "auto":
        ensemble = bool(mine) and stack_pays(built[mine[0]], len(mine), min(len(x), p.batch_size), dev)
    fallback = unsupported_reason(built[mine[0]]) if ensemble and mine else None
    stacked = ensemble and fallback is None and len(mine) > 1
    if compiled == "auto":
        compiled = compile_pays(dev, nets * epochs * len(x))
    compiled = bool(compiled) and not stacked and bool(mine) and not has_batch_norm(built[mine[0]])
    if stacked:
        train_stacked([built[i] for i in mine], x, y, generators=[torch_generator(seeds[i]) for i in mine], **train)
    local = {i: float(acc) for i, acc in done.items() if shard.owns(i)}
    for i in mine:
        if not stacked:
            train_net(built[i], x, y, generator=torch_generator(seeds[i]), compiled=compiled, **train)
        local[i] = accuracy(built[i], tx, ty)
        if on_net is not None:
            on_net(i, local[i])
    bar.close()
    gathered = gather_by_index(local, shard)
    accs = [gathered[i] for i in range(len(seeds))]
    return EvalResult(model, accs, epochs, use_dsa, p.name, time.perf_counter() - start, seeds,
                      mode="ensembled" if stacked else "sequential", fallback=fallback, compiled=compiled,
                      augment=plain)
