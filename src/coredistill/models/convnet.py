"""The field's ConvNet: depth x [conv3x3 -> norm -> act -> pool], then a linear classifier."""
from __future__ import annotations

from torch import nn

from ..errors import invalid
from .base import Classifier, register_model
from .layers import ACTIVATIONS, NORMS, POOLS


class ConvNet(Classifier):
    """ConvNet-``depth`` of width ``width`` (Gidaris & Komodakis; the DC/DM/MTT evaluation network).

    28x28 inputs are padded to 32x32 by the first convolution (padding 3), as in the field's code, so that
    MNIST-like and CIFAR-like data give the same feature grid.

    ``depth="auto"`` follows the field's choice per resolution (3 for 28/32 px, 4 for 64 px as ConvNetD4 on
    Tiny ImageNet, 5 for 128 px): the deepest net whose last norm still sees an 8x8 map. On 8x8 digits that
    is depth 1: a deeper instance-normed net normalizes 2x2 maps and loses most of the signal.
    """

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int], width: int = 128,
                 depth: int | str = "auto", norm: str = "instance", act: str = "relu", pool: str = "avg") -> None:
        super().__init__()
        make_norm, make_act, make_pool = NORMS.get(norm), ACTIVATIONS.get(act), POOLS.get(pool)
        h, w = image_size
        if depth == "auto":
            depth = auto_depth(image_size)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0:
            raise invalid("depth", depth, "a positive integer or 'auto'")
        layers: list[nn.Module] = []
        in_ch = channels
        for d in range(depth):
            pad = 3 if d == 0 and (h, w) == (28, 28) else 1
            layers.append(nn.Conv2d(in_ch, width, kernel_size=3, padding=pad))
            h, w = h + 2 * pad - 2, w + 2 * pad - 2
            layers += [make_norm(width, (h, w)), make_act()]
            if pool != "none":
                if h < 2 or w < 2:
                    raise invalid("depth", depth, f"at most {d} pooling stages for image_size {image_size}")
                layers.append(make_pool())
                h, w = h // 2, w // 2
            in_ch = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * h * w, num_classes)


def auto_depth(image_size: tuple[int, int]) -> int:
    side = min(32 if tuple(image_size) == (28, 28) else s for s in image_size)
    return max(1, side.bit_length() - 1 - 2)  # floor(log2(side)) - 2: 32 -> 3, 64 -> 4, 8 -> 1


register_model("ConvNet", ConvNet, "ConvNet-3, width 128, instance norm, avg-pool (the field's default)")
for _w in (32, 64, 128, 256):
    register_model(f"ConvNetW{_w}", ConvNet, f"ConvNet-3 of width {_w}", width=_w)
for _d in (1, 2, 3, 4):
    register_model(f"ConvNetD{_d}", ConvNet, f"ConvNet of depth {_d}", depth=_d)
for _suffix, _norm in (("BN", "batch"), ("LN", "layer"), ("GN", "group"), ("NN", "none")):
    register_model(f"ConvNet{_suffix}", ConvNet, f"ConvNet-3 with {_norm} norm", norm=_norm)
