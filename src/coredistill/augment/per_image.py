"""The field's per-image training augmentation for evaluations without DSA (the DC protocol).

Gradient matching's evaluation (Zhao, Mopuri & Bilen 2021; VICO-UoE/DatasetCondensation, ``get_daparam`` and
``augment``) trains the eval nets of a set that is not evaluated with DSA under a plain augmentation, and only for
MNIST: every image of every mini-batch gets *one* operation, drawn independently per image from the strategy:

- ``crop``: pad by ``crop`` pixels with the batch's per-channel mean, then cut the image back at a random offset
  (a shift of ``-crop .. crop - 1`` pixels on each axis);
- ``scale``: resize (nearest neighbour) to ``int(u * H) x int(v * W)``, ``u, v ~ U(1 - scale, 1 + scale)``, centred
  on a zero canvas, and cut the centre ``H x W`` back out;
- ``rotate``: rotate about the centre by a whole number of degrees in ``[-rotate, rotate)``, bicubic, filling
  with the mean of the batch's channel means (the field: a cubic spline; the two agree up to interpolation);
- ``noise``: add ``noise`` times standard Gaussian noise.

Randomness comes only from ``generator`` (torch's default generator when none is given); nothing is seeded here.

>>> import torch
>>> aug = PerImageAugment("crop_scale_rotate")
>>> aug(torch.rand(6, 1, 28, 28), generator=torch.Generator().manual_seed(0)).shape
torch.Size([6, 1, 28, 28])
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ..errors import invalid

OPERATIONS = ("crop", "scale", "rotate", "noise")


def check_strategy(name: str, strategy: str) -> None:
    """Raise the shared error unless ``strategy`` is operations of :data:`OPERATIONS` joined by '_'."""
    ops = [op for op in str(strategy).split("_") if op]
    if not isinstance(strategy, str) or not ops or any(op not in OPERATIONS for op in ops):
        raise invalid(name, strategy, f"operations joined by '_' from {', '.join(OPERATIONS)}")


@dataclass(frozen=True)
class PerImageAugment:
    """One operation per image, drawn from ``strategy`` (underscore-joined names from :data:`OPERATIONS`); the
    defaults are the field's (``get_daparam``)."""

    strategy: str = "crop_scale_rotate"
    crop: int = 4
    scale: float = 0.2
    rotate: int = 45
    noise: float = 0.001

    def __post_init__(self) -> None:
        check_strategy("strategy", self.strategy)
        if isinstance(self.crop, bool) or not isinstance(self.crop, int) or self.crop < 1:
            raise invalid("crop", self.crop, "a positive number of pixels")
        if not 0 <= self.scale < 1:
            raise invalid("scale", self.scale, "a fraction in [0, 1)")
        if isinstance(self.rotate, bool) or not isinstance(self.rotate, int) or self.rotate < 1:
            raise invalid("rotate", self.rotate, "a positive whole number of degrees")
        if not self.noise >= 0:
            raise invalid("noise", self.noise, "a non-negative noise scale")

    @property
    def operations(self) -> list[str]:
        return [op for op in self.strategy.split("_") if op]

    def __call__(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
                 siamese: bool = False) -> torch.Tensor:
        """Augment the batch ``x`` (N, C, H, W); a new tensor, ``x`` is left as it is. ``siamese`` exists for the
        call signature the training loops share with :class:`~coredistill.augment.DSA`: it must be False (this
        augmentation draws per image, never once for a batch)."""
        if x.ndim != 4:
            raise invalid("x", tuple(x.shape), "a batch of images (N, C, H, W)")
        if siamese:
            raise invalid("siamese", siamese, "False: the per-image augmentation draws every image's own operation")
        ops = self.operations
        choice = torch.randint(len(ops), (len(x),), generator=generator)
        out = x.clone()
        for k, op in enumerate(ops):
            rows = (choice == k).nonzero().flatten().to(x.device)
            if len(rows):
                out[rows] = getattr(self, f"_{op}")(x, rows, generator)
        return out

    # every operation takes the whole batch (whose statistics the fills use) and the rows it transforms
    def _crop(self, x: torch.Tensor, rows: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        n, (c, h, w) = len(rows), x.shape[1:]
        fill = x.mean(dim=(0, 2, 3)).view(1, c, 1, 1)
        shift = torch.randint(2 * self.crop, (2, n), generator=g).to(x.device) - self.crop
        src_y = torch.arange(h, device=x.device).view(1, h) + shift[0].view(n, 1)
        src_x = torch.arange(w, device=x.device).view(1, w) + shift[1].view(n, 1)
        return _gather(x[rows], src_y, src_x, fill)

    def _scale(self, x: torch.Tensor, rows: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        h, w = x.shape[2:]
        factors = 1 - self.scale + 2 * self.scale * torch.rand(2, len(rows), generator=g, dtype=torch.float64)
        return resize_centered(x[rows], (factors[0] * h).long(), (factors[1] * w).long())

    def _rotate(self, x: torch.Tensor, rows: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        degrees = torch.randint(-self.rotate, self.rotate, (len(rows),), generator=g)
        return rotate_about_centre(x[rows], degrees, fill=float(x.mean(dim=(0, 2, 3)).mean()))

    def _noise(self, x: torch.Tensor, rows: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        return x[rows] + self.noise * torch.randn(x[rows].shape, generator=g, dtype=x.dtype).to(x.device)


def resize_centered(x: torch.Tensor, new_h: torch.Tensor, new_w: torch.Tensor) -> torch.Tensor:
    """Image ``i`` resized (nearest neighbour, as ``F.interpolate``'s default) to ``new_h[i] x new_w[i]``, centred
    on a zero canvas of side ``max(new_h[i], new_w[i], H, W)``, and the centre ``H x W`` cut back out."""
    n, c, h, w = x.shape
    new_h, new_w = new_h.to(x.device), new_w.to(x.device)
    side = torch.maximum(torch.maximum(new_h, new_w), torch.tensor(max(h, w), device=x.device))

    def source(size: int, new: torch.Tensor) -> torch.Tensor:
        # output pixel -> canvas pixel -> pixel of the resized image -> its nearest-neighbour source pixel
        resized = (torch.arange(size, device=x.device).view(1, size) + ((side - size) // 2).view(n, 1)
                   - ((side - new) // 2).view(n, 1))
        # in float32, as F.interpolate computes its source index (the rounding decides the boundary pixels)
        src = torch.floor(resized.float() * (size / new.float()).view(n, 1)).long()
        return torch.where((resized >= 0) & (resized < new.view(n, 1)), src, torch.full_like(src, -1))

    return _gather(x, source(h, new_h), source(w, new_w), torch.zeros(1, c, 1, 1, device=x.device, dtype=x.dtype))


def rotate_about_centre(x: torch.Tensor, degrees: torch.Tensor, fill: float) -> torch.Tensor:
    """Image ``i`` rotated by ``degrees[i]`` (counter-clockwise as displayed, rows downwards) about its centre,
    bicubic, ``fill`` where the rotated image does not reach."""
    angle = degrees.double() * math.pi / 180
    theta = torch.zeros(len(x), 2, 3, dtype=torch.float64)
    # affine_grid maps output to input coordinates (x right, y down)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle), -torch.sin(angle)
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle), torch.cos(angle)
    grid = F.affine_grid(theta.to(device=x.device, dtype=x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bicubic", padding_mode="zeros", align_corners=False) + fill


def _gather(x: torch.Tensor, src_y: torch.Tensor, src_x: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """``out[i, :, r, s] = x[i, :, src_y[i, r], src_x[i, s]]``, and ``fill`` (per channel) where either source
    index falls outside the image."""
    n, c, h, w = x.shape
    inside = (((src_y >= 0) & (src_y < h)).view(n, 1, h, 1) & ((src_x >= 0) & (src_x < w)).view(n, 1, 1, w))
    ys = src_y.clamp(0, h - 1).view(n, 1, h, 1).expand(n, c, h, w)
    xs = src_x.clamp(0, w - 1).view(n, 1, 1, w).expand(n, c, h, w)
    picked = x.gather(2, ys).gather(3, xs)
    return torch.where(inside, picked, fill.expand(n, c, h, w))
