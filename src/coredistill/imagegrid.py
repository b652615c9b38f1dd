"""Compose images in [0, 1] into one PNG grid (previews, most/least important images)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch


def grid_png(images: torch.Tensor, rows: Sequence[Sequence[int]], path: str | Path, min_cell: int = 32,
             pad: int = 2) -> Path:
    """Write ``images[rows[r][j]]`` at row r, column j; images are (N, C, H, W) in [0, 1] (C = 1 or 3)."""
    from PIL import Image

    c, h, w = images.shape[1:]
    scale = max(1, math.ceil(min_cell / max(h, w)))
    ch, cw = h * scale, w * scale
    cols = max((len(r) for r in rows), default=1)
    grid = np.full((len(rows) * (ch + pad) + pad, max(cols, 1) * (cw + pad) + pad, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for j, i in enumerate(row):
            img = (images[int(i)].clamp(0, 1).numpy().transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
            img = np.repeat(np.repeat(img, scale, 0), scale, 1)
            if c == 1:
                img = np.repeat(img, 3, 2)
            top, left = pad + r * (ch + pad), pad + j * (cw + pad)
            grid[top:top + ch, left:left + cw] = img[:, :, :3]
    Image.fromarray(grid).save(path)
    return Path(path)
