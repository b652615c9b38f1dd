"""The model zoo: one registry, ``create_model(name, channels, num_classes, image_size, **kw)``.

>>> from coredistill.models import create_model
>>> net = create_model("ConvNet", channels=1, num_classes=10, image_size=(28, 28))
>>> import torch; net(torch.zeros(2, 1, 28, 28)).shape, net.embed(torch.zeros(2, 1, 28, 28)).shape
(torch.Size([2, 10]), torch.Size([2, 2048]))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import InvalidParameterError, invalid
from ..registry import Registry
from ..seeding import isolated_torch_rng
from .base import Classifier
from .classic import MLP, VGG11, AlexNet, LeNet
from .convnet import ConvNet
from .resnet import ResNet18


@dataclass(frozen=True)
class ModelSpec:
    builder: Callable[..., Classifier]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(name: str, builder: Callable[..., Classifier], description: str = "", **defaults: Any) -> None:
    MODELS.register(name, ModelSpec(builder, defaults, description))


register_model("ConvNet", ConvNet, "ConvNet-3, width 128, instance norm, avg-pool (the field's default)")
for _w in (32, 64, 128, 256):
    register_model(f"ConvNetW{_w}", ConvNet, f"ConvNet-3 of width {_w}", width=_w)
for _d in (1, 2, 3, 4):
    register_model(f"ConvNetD{_d}", ConvNet, f"ConvNet of depth {_d}", depth=_d)
for _suffix, _norm in (("BN", "batch"), ("LN", "layer"), ("GN", "group"), ("NN", "none")):
    register_model(f"ConvNet{_suffix}", ConvNet, f"ConvNet-3 with {_norm} norm", norm=_norm)
register_model("MLP", MLP, "two hidden layers of 128")
register_model("LeNet", LeNet, "LeNet-5")
register_model("AlexNet", AlexNet, "the DC zoo's AlexNet")
register_model("VGG11", VGG11, "VGG-11, instance norm", norm="instance")
register_model("VGG11BN", VGG11, "VGG-11, batch norm", norm="batch")
register_model("ResNet18", ResNet18, "ResNet-18, instance norm", norm="instance")
register_model("ResNet18BN", ResNet18, "ResNet-18, batch norm", norm="batch")


def list_models() -> list[str]:
    return MODELS.names()


def create_model(name: str, channels: int, num_classes: int, image_size: tuple[int, int] | int,
                 seed: int | None = None, **kwargs: Any) -> Classifier:
    """Build a registered model; ``seed`` makes its initialization reproducible without touching global RNG.

    Keyword arguments override the entry's defaults (e.g. ``width=64, norm="batch"`` for ConvNet).
    """
    spec = MODELS.get(name)
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(int(s) for s in image_size)
    for pname, value in (("channels", channels), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid(pname, value, "a positive integer")
    if len(size) != 2 or min(size) <= 0:
        raise invalid("image_size", image_size, "a positive int or (height, width)")
    options = {**spec.defaults, **kwargs}

    def build() -> Classifier:
        try:
            net = spec.builder(channels, num_classes, size, **options)
        except TypeError as e:
            raise invalid("options", sorted(kwargs), f"options accepted by {name} ({e})") from None
        except InvalidParameterError:
            raise
        except (RuntimeError, ValueError) as e:  # a feature map shrank to nothing
            raise invalid("image_size", size, f"an image size large enough for {name} ({e})") from None
        net.input_shape = (channels, *size)
        return net

    if seed is None:
        return build()
    with isolated_torch_rng(seed):
        return build()


__all__ = ["Classifier", "MODELS", "ModelSpec", "create_model", "list_models", "register_model"]
