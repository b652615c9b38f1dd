"""Figures for selection scores: a histogram per class and the most / least important images of each class."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .imagegrid import grid_png


def score_histogram(scores: np.ndarray, labels: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Histogram of ``scores`` normalized within each class (q = s / Σ_class s, times the class size: 1 = uniform)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for c in np.unique(labels):
        s = scores[labels == c]
        rel = s / s.sum() * len(s)
        ax.hist(rel, bins=50, histtype="step", label=str(c))
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("relative importance (1 = uniform sampling)")
    ax.set_ylabel("examples")
    ax.set_yscale("log")
    ax.set_title(title or "selection scores per class")
    ax.legend(fontsize=6, ncol=2, title="class", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def importance_grid(images_unit: torch.Tensor, scores: np.ndarray, labels: np.ndarray, path: str | Path,
                    per_class: int = 6, class_names: Sequence[str] | None = None) -> Path:
    """One row per class: its ``per_class`` highest-scored images, then its ``per_class`` lowest-scored ones."""
    rows, classes = [], np.unique(labels)
    for c in classes:
        members = np.flatnonzero(labels == c)
        order = members[np.argsort(-scores[members], kind="stable")]
        rows.append(list(order[:per_class]) + list(order[::-1][:per_class][::-1]))
    return grid_png(images_unit, rows, path, row_labels=_names(classes, class_names))


def _names(classes, class_names: Sequence[str] | None) -> list[str] | None:
    return None if class_names is None else [class_names[int(c)] for c in classes]


def accuracy_curve(curve: list[dict], path: str | Path, title: str = "") -> Path:
    """Test accuracy of the distilled set against distillation iteration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([c["iteration"] for c in curve], [100 * c["accuracy"] for c in curve], marker="o", ms=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("test accuracy %")
    ax.set_title(title or "accuracy during distillation")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def sampler_diagnostics(refreshes: list[dict], path: str | Path, title: str = "") -> Path:
    """Per refresh of an importance sampler: entropy of p / log(pool) per class (1 = uniform), the fraction of
    the pool holding 90 % of the mass, and the mean loss of the scored real examples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [h["iteration"] for h in refreshes]
    classes = len(refreshes[0]["classes"]) if refreshes else 0
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    panels = (("entropy / log(pool)", lambda c: c["entropy"] / max(c["max_entropy"], 1e-12)),
              ("pool fraction with 90 % of p", lambda c: c["mass90_fraction"]),
              ("mean loss", lambda c: c["mean_loss"]))
    for ax, (label, value) in zip(axes, panels):
        for k in range(classes):
            ax.plot(its, [value(h["classes"][k]) for h in refreshes], lw=0.8, marker="o", ms=2, label=str(k))
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    if classes <= 20:
        axes[-1].legend(fontsize=6, ncol=2, title="class", title_fontsize=7)
    fig.suptitle(title or "importance sampler", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def important_real_grid(images_unit: torch.Tensor, refresh: dict, path: str | Path,
                        class_names: Sequence[str] | None = None) -> Path:
    """One row per class: the real examples with the highest sampling probability at one refresh."""
    return grid_png(images_unit, [c["top"] for c in refresh["classes"]], path,
                    row_labels=_names(range(len(refresh["classes"])), class_names))
