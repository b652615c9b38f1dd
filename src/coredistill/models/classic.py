"""Cross-architecture evaluation models of the field: MLP, LeNet, AlexNet, VGG11 (as in DC/DSA's zoo)."""
from __future__ import annotations

from torch import nn

from .base import Classifier, flat_feature_size, register_model
from .layers import NORMS


class MLP(Classifier):
    """Two hidden layers of 128 units."""

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int], width: int = 128) -> None:
        super().__init__()
        d = channels * image_size[0] * image_size[1]
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(d, width), nn.ReLU(inplace=True),
                                      nn.Linear(width, width), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(width, num_classes)


class LeNet(Classifier):
    """LeNet-5: two 5x5 conv + max-pool stages, then 120 and 84 hidden units (embedding = the 84)."""

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int]) -> None:
        super().__init__()
        convs = nn.Sequential(
            nn.Conv2d(channels, 6, 5, padding=2 if channels == 1 else 0), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten())
        n = flat_feature_size(convs, channels, image_size)
        self.features = nn.Sequential(convs, nn.Linear(n, 120), nn.ReLU(inplace=True), nn.Linear(120, 84),
                                      nn.ReLU(inplace=True))
        self.classifier = nn.Linear(84, num_classes)


class AlexNet(Classifier):
    """The small AlexNet of the DC zoo: five convolutions (128-192-256-192-192), three max-pools."""

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int]) -> None:
        super().__init__()
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(channels, 128, 5, padding=4 if channels == 1 else 2), relu(), nn.MaxPool2d(2),
            nn.Conv2d(128, 192, 5, padding=2), relu(), nn.MaxPool2d(2),
            nn.Conv2d(192, 256, 3, padding=1), relu(),
            nn.Conv2d(256, 192, 3, padding=1), relu(),
            nn.Conv2d(192, 192, 3, padding=1), relu(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Linear(flat_feature_size(self.features, channels, image_size), num_classes)


VGG11_CONFIG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG11(Classifier):
    """VGG-11 with a configurable norm (instance norm as in the DC zoo, or batch norm for VGG11BN)."""

    def __init__(self, channels: int, num_classes: int, image_size: tuple[int, int], norm: str = "instance") -> None:
        super().__init__()
        make_norm = NORMS.get(norm)
        layers: list[nn.Module] = []
        in_ch, (h, w) = channels, image_size
        for i, v in enumerate(VGG11_CONFIG):
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
                continue
            pad = 3 if i == 0 and channels == 1 and image_size == (28, 28) else 1
            h, w = h + 2 * pad - 2, w + 2 * pad - 2
            layers += [nn.Conv2d(in_ch, v, 3, padding=pad), make_norm(v, (h, w)), nn.ReLU(inplace=True)]
            in_ch = v
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.classifier = nn.Linear(flat_feature_size(self.features, channels, image_size), num_classes)


register_model("MLP", MLP, "two hidden layers of 128")
register_model("LeNet", LeNet, "LeNet-5")
register_model("AlexNet", AlexNet, "the DC zoo's AlexNet")
register_model("VGG11", VGG11, "VGG-11, instance norm", norm="instance")
register_model("VGG11BN", VGG11, "VGG-11, batch norm", norm="batch")
