"""Named compute presets. Every result records the preset it ran under; compare only within one preset.

``paper`` is the field's protocol (DESIGN §3) and needs a GPU; ``cpu`` finishes on a laptop CPU in minutes;
``tiny`` is for tests and smoke runs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .registry import Registry


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    model: str = "ConvNet"
    model_options: dict[str, Any] = field(default_factory=dict)
    eval_nets: int = 5
    eval_epochs: int = 300  # without augmentation
    eval_epochs_dsa: int = 1000  # with DSA augmentation
    eval_dsa: bool = True
    batch_size: int = 256
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4

    def epochs(self, dsa: bool) -> int:
        return self.eval_epochs_dsa if dsa else self.eval_epochs

    def with_overrides(self, **changes: Any) -> "Preset":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: Registry[Preset] = Registry("preset")
PRESETS.register("paper", Preset(
    "paper", "the field's protocol: ConvNet-3 width 128, 5 eval nets, 1000 epochs with DSA (300 without)"))
PRESETS.register("cpu", Preset(
    "cpu", "CPU-sized: ConvNet-3 width 32, 3 eval nets, 300 epochs, no eval augmentation",
    model_options={"width": 32}, eval_nets=3, eval_epochs=300, eval_epochs_dsa=300, eval_dsa=False))
PRESETS.register("tiny", Preset(
    "tiny", "seconds: ConvNet-3 width 32, 2 eval nets, 100 epochs, for tests and smoke runs",
    model_options={"width": 32}, eval_nets=2, eval_epochs=100, eval_epochs_dsa=100, eval_dsa=False))


def get_preset(preset: str | Preset) -> Preset:
    return preset if isinstance(preset, Preset) else PRESETS.get(preset)
