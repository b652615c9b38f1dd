"""RFAD's finite-network evaluation (Loo et al., NeurIPS'22): the protocol its published accuracies use.

Not the field's DC protocol (:mod:`coredistill.evaluate`: cross-entropy, mini-batches, augmentation, final epoch).
A kernel method's set is fit to what a network does near its initialization, and RFAD scores it there: a ConvNet-3
without normalization, trained full-batch with SGD (momentum 0.9) on the mean squared error between its outputs
*centred* on the initial network's, ``f(x) - f0(x)``, and ``label_scale`` times the targets (one-hot minus ``1/C``
for class labels, as RFAD's own labels), divided by ``label_scale**2``, plus ``weight_decay`` times the squared
distance of the weights from their initial values. Every ``validate_every`` steps the centred predictions are scored on
held-out *train* images (RFAD: 500 per class), and after the last step when ``max_steps`` ends the run; the net of
the best such step is kept (patience: stop once that many steps pass without a better one), and its centred
predictions are tested. The test split
selects nothing.

Settings per data set and IPC: :func:`rfad_finite_settings` (yolky/RFAD ``utils.get_best_finite_hypers``, its
label-scale branch; the paper's width is 1024).

>>> import torch
>>> x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
>>> r = evaluate_centered(x, y, x, y, x, y, num_classes=2, width=8, lr=1e-3, weight_decay=0.0, max_steps=20,
...                       validate_every=10, progress=False)
>>> r.best_steps[0] in (0, 10, 20)
True
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .device import resolve_device
from .errors import invalid
from .evaluate import NetAccuracies, _check_class_range, _check_training_set
from .models import create_model
from .seeding import spawn

# yolky/RFAD utils.get_best_finite_hypers (use_label_scale branch): (data set, IPC) -> lr, label scale, weight decay
RFAD_FINITE = {
    ("mnist", 1): {"lr": 1e-3, "label_scale": 8.0, "weight_decay": 1e-3},
    ("mnist", 10): {"lr": 1e-2, "label_scale": 8.0, "weight_decay": 1e-3},
    ("mnist", 50): {"lr": 1e-2, "label_scale": 8.0, "weight_decay": 0.0},
    ("fashion-mnist", 1): {"lr": 1e-3, "label_scale": 8.0, "weight_decay": 0.0},
    ("fashion-mnist", 10): {"lr": 1e-2, "label_scale": 8.0, "weight_decay": 1e-3},
    ("fashion-mnist", 50): {"lr": 1e-3, "label_scale": 2.0, "weight_decay": 0.0},
    ("cifar10", 1): {"lr": 1e-3, "label_scale": 8.0, "weight_decay": 0.0},
    ("cifar10", 10): {"lr": 1e-3, "label_scale": 2.0, "weight_decay": 0.0},
    ("cifar10", 50): {"lr": 1e-2, "label_scale": 2.0, "weight_decay": 0.0},
}
RFAD_WIDTH = 1024  # eval_distilled_set.py's default --net_width
RFAD_VALIDATION_PER_CLASS = 500


def rfad_finite_settings(dataset: str, ipc: int) -> dict[str, float]:
    """RFAD's published finite-network settings for ``dataset`` at ``ipc`` (lr, label_scale, weight_decay).

    >>> rfad_finite_settings("mnist", 1)
    {'lr': 0.001, 'label_scale': 8.0, 'weight_decay': 0.001}
    """
    if (dataset, ipc) not in RFAD_FINITE:
        known = ", ".join(f"{d} IPC {i}" for d, i in RFAD_FINITE)
        raise invalid("dataset/ipc", f"{dataset} IPC {ipc}", f"one RFAD published settings for: {known}")
    return dict(RFAD_FINITE[(dataset, ipc)])


@dataclass
class CenteredResult(NetAccuracies):
    """Test accuracies of ``len(accuracies)`` nets trained by RFAD's finite-network protocol, with the step each
    kept (its best held-out accuracy, ``val_accuracies``) and the settings it ran under."""

    model: str
    accuracies: list[float]
    best_steps: list[int]
    val_accuracies: list[float]
    steps_run: list[int]
    settings: dict
    seconds: float
    net_seeds: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**asdict(self), "mean": self.mean, "std": self.std, "protocol": "rfad-finite"}

    def __str__(self) -> str:
        return (f"{self.model} (RFAD finite-network protocol): {100 * self.mean:.2f} ± {100 * self.std:.2f} % "
                f"({len(self.accuracies)} nets, best steps {self.best_steps})")


def centered_targets(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Regression targets: one-hot minus ``1/num_classes`` for class indices (RFAD's labels); soft labels as given
    (a set with learned labels carries its own)."""
    if labels.ndim == 2:
        return labels.float()
    return F.one_hot(labels.long(), num_classes).float() - 1.0 / num_classes


@torch.no_grad()
def _outputs(net: torch.nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    net.eval()
    return torch.cat([net(x[start:start + batch_size]) for start in range(0, len(x), batch_size)])


def centered_accuracy(model: torch.nn.Module, init: torch.nn.Module | torch.Tensor, x: torch.Tensor,
                      y: torch.Tensor) -> float:
    """Accuracy of the centred predictions ``argmax(model(x) - init(x))``; ``init`` may be its outputs on ``x``
    (they do not change while ``model`` trains)."""
    offset = init if isinstance(init, torch.Tensor) else _outputs(init, x)
    return float(((_outputs(model, x) - offset).argmax(1) == y).float().mean()) if len(x) else 0.0


def _train_centered(model: torch.nn.Module, init: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor,
                    val_x: torch.Tensor, val_y: torch.Tensor, *, lr: float, weight_decay: float, label_scale: float,
                    max_steps: int, patience: int, validate_every: int, progress: tqdm | None
                    ) -> tuple[torch.nn.Module, int, float, int]:
    """Unchecked core: train ``model`` in place, centred on ``init`` (its untouched copy from before training);
    return (the best step's net, that step, its held-out accuracy, steps trained)."""
    for p in init.parameters():
        p.requires_grad_(False)
    out0, val0 = _outputs(init, x), _outputs(init, val_x)
    scaled = label_scale * targets
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    best, best_step, best_acc = copy.deepcopy(model), 0, -1.0
    trained = 0
    # validated every validate_every steps and, when the step budget (not patience) ends the run, after its last
    for step in range(max_steps + 1):
        if step % validate_every == 0 or step == max_steps:
            acc = centered_accuracy(model, val0, val_x, val_y)
            if acc > best_acc:
                best, best_step, best_acc = copy.deepcopy(model), step, acc
            if progress is not None:
                progress.set_postfix(step=step, best=f"{100 * best_acc:.1f}%@{best_step}", refresh=False)
        if step == max_steps or step >= best_step + patience:
            break
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = ((model(x) - out0 - scaled) ** 2).mean() / label_scale ** 2
        if weight_decay:
            loss = loss + weight_decay * sum(((p - p0) ** 2).sum() for p, p0 in zip(model.parameters(),
                                                                                  init.parameters()))
        loss.backward()
        opt.step()
        trained += 1
        if progress is not None:
            progress.update(1)
    return best, best_step, best_acc, trained


def _check_validation_set(vx: torch.Tensor, vy: torch.Tensor, x: torch.Tensor, num_classes: int) -> None:
    """The held-out images that choose the best step, checked under their own parameter names."""
    for name, value in (("val_images", vx), ("val_labels", vy)):
        if not isinstance(value, torch.Tensor):
            raise invalid(name, type(value).__name__, "a torch.Tensor (torch.from_numpy converts an array)")
    if vx.ndim != 4 or len(vx) == 0 or vx.shape[1:] != x.shape[1:]:
        raise invalid("val_images", tuple(vx.shape),
                      f"a non-empty batch shaped like the set (N, {', '.join(map(str, x.shape[1:]))})")
    if not torch.isfinite(vx).all():
        raise invalid("val_images", "tensor with NaN/Inf", "finite values")
    if vy.ndim != 1 or len(vy) != len(vx) or vy.is_floating_point():
        raise invalid("val_labels", f"{vy.dtype} tensor of shape {tuple(vy.shape)}", f"{len(vx)} class indices")
    _check_class_range("val_labels", vy, num_classes)


def evaluate_centered(images: torch.Tensor, labels: torch.Tensor, val_images: torch.Tensor, val_labels: torch.Tensor,
                      test_images: torch.Tensor, test_labels: torch.Tensor, *, num_classes: int, lr: float,
                      weight_decay: float, label_scale: float = 8.0, model: str = "ConvNetNN",
                      width: int = RFAD_WIDTH, max_steps: int = 20_000, patience: int = 500,
                      validate_every: int = 100, nets: int = 1, seed: int = 0,
                      device: str | torch.device | None = None, progress: bool = True) -> CenteredResult:
    """Train ``nets`` fresh ``model`` nets (width ``width``) on ``(images, labels)`` by RFAD's finite-network
    protocol (the module's docstring), keep each one's best step on ``(val_images, val_labels)`` — images of the
    train split, never the test split — and test it. All images in one (normalized) space; the set trains
    full-batch."""
    _check_training_set(images, labels, test_images, test_labels, num_classes)
    _check_validation_set(val_images, val_labels, images, num_classes)
    for name, value in (("nets", nets), ("width", width), ("max_steps", max_steps), ("patience", patience),
                        ("validate_every", validate_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid(name, value, "a positive integer")
    for name, value, lowest in (("lr", lr, "positive"), ("label_scale", label_scale, "positive"),
                                ("weight_decay", weight_decay, "non-negative")):
        ok = np.isfinite(value) and (value > 0 if lowest == "positive" else value >= 0)
        if isinstance(value, bool) or not ok:
            raise invalid(name, value, f"a {lowest} finite number")
    dev = resolve_device(device)
    x = images.detach().float().to(dev)
    targets = centered_targets(labels.detach().to(dev), num_classes)
    vx, vy = val_images.detach().float().to(dev), val_labels.detach().long().to(dev)
    tx, ty = test_images.detach().float().to(dev), test_labels.detach().long().to(dev)
    seeds = spawn(seed, nets)
    start = time.perf_counter()
    bar = tqdm(total=nets * max_steps, desc=f"rfad-finite {model}-{width}", unit="step",
               disable=None if progress else True, leave=False)
    accs, steps, vals, ran = [], [], [], []
    for s in seeds:
        net = create_model(model, images.shape[1], num_classes, tuple(images.shape[2:]), seed=s, width=width).to(dev)
        init = copy.deepcopy(net)
        best, step, val, n = _train_centered(net, init, x, targets, vx, vy, lr=float(lr),
                                             weight_decay=float(weight_decay), label_scale=float(label_scale),
                                             max_steps=max_steps, patience=patience, validate_every=validate_every,
                                             progress=bar)
        accs.append(centered_accuracy(best, init, tx, ty))
        steps.append(step)
        vals.append(val)
        ran.append(n)
    bar.close()
    settings = {"lr": float(lr), "weight_decay": float(weight_decay), "label_scale": float(label_scale),
                "width": width, "max_steps": max_steps, "patience": patience, "validate_every": validate_every,
                "validation_images": len(vx),
                "targets": "given (soft / learned)" if labels.ndim == 2 else "one-hot - 1/C"}
    return CenteredResult(model, accs, steps, vals, ran, settings, time.perf_counter() - start, seeds)


def validation_indices(labels: torch.Tensor, per_class: int, num_classes: int, seed: int) -> torch.Tensor:
    """``per_class`` train images of each class (without replacement; all of a smaller class) for the protocol's
    best-step choice, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    y = labels.cpu().numpy()
    chosen = []
    for c in range(num_classes):
        members = np.flatnonzero(y == c)
        chosen.append(np.sort(rng.choice(members, size=min(per_class, len(members)), replace=False)))
    return torch.from_numpy(np.concatenate(chosen))
