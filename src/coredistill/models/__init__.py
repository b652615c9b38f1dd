"""The model zoo: one registry, ``create_model(name, channels, num_classes, image_size, **kw)``.

>>> from coredistill.models import create_model
>>> net = create_model("ConvNet", channels=1, num_classes=10, image_size=(28, 28))
>>> import torch; net(torch.zeros(2, 1, 28, 28)).shape, net.embed(torch.zeros(2, 1, 28, 28)).shape
(torch.Size([2, 10]), torch.Size([2, 2048]))
"""
from __future__ import annotations

from typing import Any

from ..errors import InvalidParameterError, invalid
from ..registry import check_options, import_submodules, option_names
from ..seeding import isolated_torch_rng
from .base import MODELS, Classifier, ModelSpec, register_model
from .convnet import ConvNet  # noqa: F401  (imported in the listing's order)
from .classic import MLP, VGG11, AlexNet, LeNet  # noqa: F401
from .resnet import ResNet18  # noqa: F401


import_submodules(__name__, __path__)  # a model registers where it is defined: a new one is one new file


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
    # the builder's first three parameters are the channels, classes and size passed here, not options
    check_options(spec.builder, kwargs, f"model {name!r}", taken=(option_names(spec.builder) or [])[:3])

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
