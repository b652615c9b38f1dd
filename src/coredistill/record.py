"""What a finished run reports, typed: the view of an artifact's manifest that the CLI, the benchmark runner and
the demo read (the manifest itself stays plain JSON, so that any tool can read a saved set)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .evaluate import EvalResult


@dataclass(frozen=True)
class Timings:
    """Wall seconds per step of a run (0 for a step that did not run)."""

    experts_s: float = 0.0
    prepare_s: float = 0.0
    features_s: float = 0.0
    select_s: float = 0.0
    prune_s: float = 0.0  # static pruning: the teacher's scores (and its training, when not cached)
    distill_s: float = 0.0
    eval_s: float = 0.0

    @property
    def selection_s(self) -> float:
        """Initial selection: its features and the initializer."""
        return self.features_s + self.select_s

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> "Timings":
        return cls(**{f.name: float(d.get(f.name, 0.0)) for f in fields(cls)})


@dataclass(frozen=True)
class RunRecord:
    """``model`` is the preset's evaluation architecture (the headline metric); ``metrics`` every evaluation by
    name (other architectures, a method's own, e.g. KRR); ``curve`` accuracy at iterations (``--eval-every``);
    ``refreshes`` the importance sampler's diagnostics per re-scoring."""

    model: str
    metrics: dict[str, EvalResult]
    timings: Timings
    iterations: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)
    sampler: str = "uniform"
    sampler_seconds: float = 0.0
    sampler_share: float = 0.0
    refreshes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def result(self) -> EvalResult:
        """The headline evaluation (the preset's model)."""
        return self.metrics[self.model]

    @property
    def accuracy(self) -> float:
        return self.result.mean

    @classmethod
    def from_manifest(cls, m: dict[str, Any]) -> "RunRecord":
        log = m.get("log") or {}
        return cls(model=(m.get("preset") or {}).get("model", "ConvNet"),
                   metrics={k: EvalResult.from_dict(v) for k, v in (m.get("metrics") or {}).items()},
                   timings=Timings.from_dict(m.get("timings") or {}),
                   iterations=int(((m.get("method") or {}).get("options") or {}).get("iterations", 0) or 0),
                   curve=list(m.get("curve") or []), sampler=(m.get("sampler") or {}).get("name", "uniform"),
                   sampler_seconds=float(log.get("sampler_seconds") or 0.0),
                   sampler_share=float(log.get("sampler_share") or 0.0),
                   refreshes=list((log.get("sampler") or {}).get("refreshes") or []))
