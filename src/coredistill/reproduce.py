"""Run a method at its published configuration and compare with its paper: ``coredistill reproduce``.

``reproduce(method, dataset, ipc)`` distills with the ``reproduce`` preset (the papers' model, evaluation protocol
and hyper-parameters, budgets cut to what a CPU affords; ``paper`` on a GPU), checkpointing as it goes so that a
stopped run continues, and returns a :class:`Comparison`: our final-epoch accuracy beside the published one
(:mod:`coredistill.published`), the gap, the iterations used against the paper's, and the slope of the accuracy
curve at its end (still climbing: the budget, not the method, explains part of the gap). ``random``,
``herding`` and ``k-center`` are the coreset baselines: real images, no learning.
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .artifacts import DistilledSet
from .data.dataset import ImageDataset
from .params import NON_NEGATIVE_INT
from .methods import METHODS
from .presets import Preset, get_preset
from .published import Published, published

BASELINES = ("random", "herding", "k-center")  # coreset baselines: initializers of these names, no learning
HEADERS = ["method", "dataset", "ipc", "ours %", "published %", "gap", "iterations (paper)", "curve's last slope",
           "source"]


@dataclass(frozen=True)
class Comparison:
    """Our result for one (method, data set, IPC) beside the published number. Accuracies in percent; ``curve``
    holds (iteration, accuracy %) pairs; ``slope`` is the accuracy change per 1,000 iterations between the curve's
    last point and the latest one at least half the curve's median spacing before it (a point just before the
    end, as runs recorded before the loop skipped those, would measure noise over a few iterations); ``None``
    without two such points."""

    method: str
    dataset: str
    ipc: int
    preset: str
    accuracy: float
    std: float
    iterations: int
    paper_iterations: int | None
    published: Published | None
    curve: list[tuple[int, float]] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        return None if self.published is None else self.accuracy - self.published.accuracy

    @property
    def slope(self) -> float | None:
        if len(self.curve) < 2:
            return None
        gaps = sorted(b[0] - a[0] for a, b in zip(self.curve, self.curve[1:]))
        span = gaps[len(gaps) // 2] / 2  # half the median spacing (the upper median for an even count)
        i1, a1 = self.curve[-1]
        earlier = [(i, a) for i, a in self.curve[:-1] if i1 - i >= max(span, 1)]  # iterations are integers
        if not earlier:
            return None
        i0, a0 = earlier[-1]
        return (a1 - a0) / (i1 - i0) * 1000

    def row(self) -> list[str]:
        pub = self.published
        return [self.method, self.dataset, str(self.ipc), f"{self.accuracy:.2f} ± {self.std:.2f}",
                "—" if pub is None else f"{pub.accuracy:g}" + ("" if pub.std is None else f" ± {pub.std:g}"),
                "—" if self.gap is None else f"{self.gap:+.2f}",
                f"{self.iterations} ({self.paper_iterations})" if self.paper_iterations else str(self.iterations),
                "—" if self.slope is None else f"{self.slope:+.2f} / 1k it",
                "no published number recorded" if pub is None else pub.source + ("" if pub.verified else
                                                                                   " (unverified here)")]


def _names(method: str) -> tuple[str, str]:
    """(distillation method, initializer) for a method or a coreset baseline."""
    if method in BASELINES:
        return "none", method
    METHODS.get(method)
    return method, "random"  # the papers start from randomly chosen real images


def _paper_iterations(method: str, ipc: int) -> int | None:
    if method in BASELINES:
        return None
    return get_preset("paper").method_options(method, ipc).get("iterations")


def compare(method: str, dataset: str, ipc: int, preset: str, accuracies: Sequence[float], iterations: int,
            curve: Sequence[dict[str, float]] = (), published_as: str | None = None) -> Comparison:
    """A :class:`Comparison` from a run's numbers (accuracies as fractions, as the evaluator reports them).
    ``published_as``: the published entry to compare with when it has another name than ``method`` (a grid's
    ``herding-teacher`` selection beside the published ``herding``)."""
    mean = 100 * sum(accuracies) / len(accuracies)
    std = 100 * math.sqrt(sum((a - mean / 100) ** 2 for a in accuracies) / len(accuracies))
    points = [(int(p["iteration"]), 100 * float(p["accuracy"])) for p in curve]
    reference = published_as or method
    return Comparison(method, dataset, ipc, preset, mean, std, iterations, _paper_iterations(reference, ipc),
                      published(reference, dataset, ipc), points)


def compare_artifact(artifact: DistilledSet) -> Comparison:
    m = artifact.manifest
    name = m["method"]["name"]
    method = m["initializer"]["name"] if name == "none" else name
    record = artifact.record
    return compare(method, m["dataset"]["name"], int(m["ipc"]), m["preset"]["name"], record.result.accuracies,
                   record.iterations, record.curve)


def default_out(method: str, dataset: str, ipc: int, preset: str, seed: int) -> Path:
    return Path("reproduce") / preset / f"{method}-{dataset}-ipc{ipc}-seed{seed}"


# eval nets of each curve point: under the field's protocol one 5-net evaluation at IPC 10 costs about as much as an
# hour of CPU distillation; two nets say whether the curve still climbs (the final evaluation keeps the preset's)
CURVE_NETS = 2


def reproduce(method: str, dataset: ImageDataset, ipc: int, *, preset: str | Preset = "reproduce", seed: int = 0,
              out: str | Path | None = None, eval_every: int | None = None, checkpoint_every: int | None = None,
              num_experts: int | None = None, dataset_options: dict[str, Any] | None = None,
              curve_nets: int | None = CURVE_NETS, progress: bool = True) -> tuple[DistilledSet, Comparison]:
    """Distill ``dataset`` with ``method`` at ``preset``'s published configuration (a finished artifact at ``out``
    is read, not recomputed; a stopped run continues from its checkpoint in ``out.ckpt``) and compare.

    ``eval_every`` defaults to a quarter of the run (a four-point curve) evaluated with ``curve_nets`` nets (the
    final evaluation: the preset's), ``checkpoint_every`` to a fiftieth; ``num_experts`` (MTT) to the preset's
    ``experts["num_experts"]``, else the library's default (``Preset.num_experts``)."""
    from .pipeline import distill

    p = get_preset(preset)
    learner, init = _names(method)
    out = Path(out) if out is not None else default_out(method, dataset.name, ipc, p.name, seed)
    if (out / "manifest.json").is_file():
        artifact = DistilledSet.load(out)
        return artifact, compare_artifact(artifact)
    iterations = p.method_options(learner, ipc).get("iterations", 0) if learner != "none" else 0
    if eval_every is None:
        eval_every = iterations // 4 if iterations >= 4 else 0
    if checkpoint_every is None:
        checkpoint_every = max(1, iterations // 50) if iterations else 0
    NON_NEGATIVE_INT.check("eval_every", eval_every)
    NON_NEGATIVE_INT.check("checkpoint_every", checkpoint_every)
    ckpt = out.with_name(out.name + ".ckpt")
    artifact = distill(dataset, ipc=ipc, method=learner, init=init, preset=p, seed=seed, eval_every=eval_every,
                       checkpoint_dir=ckpt if checkpoint_every else None, checkpoint_every=checkpoint_every,
                       resume=bool(checkpoint_every), dataset_options=dataset_options,
                       num_experts=num_experts,
                       curve_nets=curve_nets, progress=progress)
    artifact.save(out)
    shutil.rmtree(ckpt, ignore_errors=True)
    return artifact, compare_artifact(artifact)
