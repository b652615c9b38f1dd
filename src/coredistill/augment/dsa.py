"""Differentiable Siamese Augmentation (Zhao & Bilen 2021) with the field's parameters.

Random parameters are drawn once per call and applied identically to every tensor passed in that call
(real and synthetic batches alike, whatever their sizes): the "Siamese" property gradient and distribution
matching rely on. With ``siamese=False`` every image of a single batch gets its own draw (evaluation-time
augmentation). Every operation is differentiable with respect to the images. Randomness comes only from the
``generator`` argument (or torch's default generator when none is given); nothing is seeded here.

>>> import torch
>>> dsa = DSA()
>>> real, syn = torch.rand(8, 3, 32, 32), torch.rand(2, 3, 32, 32, requires_grad=True)
>>> a, b = dsa(real, syn, generator=torch.Generator().manual_seed(0))
>>> a.shape, b.shape
(torch.Size([8, 3, 32, 32]), torch.Size([2, 3, 32, 32]))
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from ..errors import invalid

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class DSA:
    """Differentiable augmentation; ``strategy`` is an underscore-joined list of operations.

    ``mode="single"`` (the field's default 'S') applies one operation chosen at random per call;
    ``mode="all"`` ('M') applies every operation of the strategy in order.
    """

    strategy: str = "color_crop_cutout_flip_scale_rotate"
    mode: str = "single"
    flip_prob: float = 0.5
    scale_ratio: float = 1.2
    rotate_degrees: float = 15.0
    crop_pad_ratio: float = 0.125
    cutout_ratio: float = 0.5
    brightness: float = 1.0
    saturation: float = 2.0
    contrast: float = 0.5

    def __post_init__(self) -> None:
        for op in self.operations:
            if op not in OPERATIONS:
                raise invalid("strategy", self.strategy, f"operations joined by '_' from {', '.join(OPERATIONS)}")
        if self.mode not in ("single", "all"):
            raise invalid("mode", self.mode, "'single' or 'all'")

    @property
    def operations(self) -> list[str]:
        return [op for op in self.strategy.split("_") if op]

    def sample(self, n: int, image_size: tuple[int, int], generator: torch.Generator | None = None) -> list[tuple[str, Params]]:
        """Draw the operations and their parameters for ``n`` images (``n=1``: shared by all)."""
        ops = self.operations
        if self.mode == "single" and ops:
            ops = [ops[int(torch.randint(len(ops), (1,), generator=generator))]]
        return [(op, OPERATIONS[op][0](self, n, image_size, generator)) for op in ops]

    def apply(self, x: torch.Tensor, drawn: list[tuple[str, Params]]) -> torch.Tensor:
        for op, params in drawn:
            x = OPERATIONS[op][1](self, x, {k: _expand(v, len(x), x.device) for k, v in params.items()})
        return x

    def __call__(self, *tensors: torch.Tensor, generator: torch.Generator | None = None,
                 siamese: bool = True):
        if not tensors:
            return ()
        for i, t in enumerate(tensors):
            if t.ndim != 4:
                raise invalid(f"tensors[{i}]", tuple(t.shape), "a batch of images (N, C, H, W)")
        if not siamese and len(tensors) != 1:
            raise invalid("siamese", siamese, "True when several tensors are passed (they share parameters)")
        n = 1 if siamese else len(tensors[0])
        drawn = self.sample(n, tuple(tensors[0].shape[-2:]), generator)
        out = tuple(self.apply(t, drawn) for t in tensors)
        return out[0] if len(out) == 1 else out


def _expand(v: torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    v = v.to(device)
    return v.expand(n, *v.shape[1:]) if v.shape[0] == 1 else v


def _uniform(n: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=generator)


# --- operations: (sample parameters, apply) ------------------------------------------------------------------
def _sample_color(a: DSA, n: int, hw, g) -> Params:
    return {"brightness": _uniform(n, g), "saturation": _uniform(n, g), "contrast": _uniform(n, g)}


def _apply_color(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    x = x + (p["brightness"] - 0.5).view(-1, 1, 1, 1).to(x.dtype) * a.brightness
    m = x.mean(dim=1, keepdim=True)
    x = (x - m) * (p["saturation"] * a.saturation).view(-1, 1, 1, 1).to(x.dtype) + m
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - m) * (p["contrast"] + a.contrast).view(-1, 1, 1, 1).to(x.dtype) + m


def _sample_crop(a: DSA, n: int, hw, g) -> Params:
    sh, sw = int(hw[0] * a.crop_pad_ratio + 0.5), int(hw[1] * a.crop_pad_ratio + 0.5)
    return {"dy": torch.randint(-sh, sh + 1, (n,), generator=g), "dx": torch.randint(-sw, sw + 1, (n,), generator=g)}


def _apply_crop(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    # translate by whole pixels, filling with zeros: pad by the largest shift, then gather the window
    n, c, h, w = x.shape
    pad_h, pad_w = int(p["dy"].abs().max()), int(p["dx"].abs().max())
    xp = F.pad(x, [pad_w, pad_w, pad_h, pad_h])
    rows = (torch.arange(h, device=x.device).view(1, h) + pad_h + p["dy"].view(n, 1)).view(n, 1, h, 1)
    cols = (torch.arange(w, device=x.device).view(1, w) + pad_w + p["dx"].view(n, 1)).view(n, 1, 1, w)
    xp = xp.gather(2, rows.expand(n, c, h, xp.shape[3]))
    return xp.gather(3, cols.expand(n, c, h, w))


def _sample_cutout(a: DSA, n: int, hw, g) -> Params:
    ch, cw = int(hw[0] * a.cutout_ratio + 0.5), int(hw[1] * a.cutout_ratio + 0.5)
    return {"cy": torch.randint(0, hw[0] + (1 - ch % 2), (n,), generator=g),
            "cx": torch.randint(0, hw[1] + (1 - cw % 2), (n,), generator=g)}


def _apply_cutout(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * a.cutout_ratio + 0.5), int(w * a.cutout_ratio + 0.5)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    top = (p["cy"] - ch // 2).view(n, 1, 1)
    left = (p["cx"] - cw // 2).view(n, 1, 1)
    hole = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def _sample_flip(a: DSA, n: int, hw, g) -> Params:
    return {"flip": (_uniform(n, g) < a.flip_prob)}


def _apply_flip(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    mask = p["flip"].view(-1, 1, 1, 1)
    return torch.where(mask, x.flip(3), x)


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)


def _sample_scale(a: DSA, n: int, hw, g) -> Params:
    lo, hi = 1.0 / a.scale_ratio, a.scale_ratio
    return {"sx": _uniform(n, g) * (hi - lo) + lo, "sy": _uniform(n, g) * (hi - lo) + lo}


def _apply_scale(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    n = len(x)
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1] = p["sx"], p["sy"]
    return _affine(x, theta)


def _sample_rotate(a: DSA, n: int, hw, g) -> Params:
    return {"angle": (_uniform(n, g) - 0.5) * 2 * a.rotate_degrees / 180 * math.pi}


def _apply_rotate(a: DSA, x: torch.Tensor, p: Params) -> torch.Tensor:
    c, s = torch.cos(p["angle"]), torch.sin(p["angle"])
    theta = torch.zeros(len(x), 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = c, s, -s, c
    return _affine(x, theta)


OPERATIONS: dict[str, tuple[Callable, Callable]] = {
    "color": (_sample_color, _apply_color),
    "crop": (_sample_crop, _apply_crop),
    "cutout": (_sample_cutout, _apply_cutout),
    "flip": (_sample_flip, _apply_flip),
    "scale": (_sample_scale, _apply_scale),
    "rotate": (_sample_rotate, _apply_rotate),
}


def default_strategy(allow_flip: bool) -> str:
    """The field's strategy; no flips for digits-like data (flipping changes the label)."""
    return "color_crop_cutout_flip_scale_rotate" if allow_flip else "color_crop_cutout_scale_rotate"
