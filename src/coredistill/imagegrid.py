"""Compose images in [0, 1] into one PNG grid (previews, most/least important images)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch


LABEL_CHARS = 14  # longest row label written in full; longer ones end in "…"


def grid_png(images: torch.Tensor, rows: Sequence[Sequence[int]], path: str | Path, min_cell: int = 32,
             pad: int = 2, row_labels: Sequence[str] | None = None) -> Path:
    """Write ``images[rows[r][j]]`` at row r, column j; images are (N, C, H, W) in [0, 1] (C = 1 or 3).
    ``row_labels`` (e.g. class names) are written left of their rows."""
    from PIL import Image, ImageDraw, ImageFont

    c, h, w = images.shape[1:]
    scale = max(1, math.ceil(min_cell / max(h, w)))
    ch, cw = h * scale, w * scale
    cols = max((len(r) for r in rows), default=1)
    labels = [_short(str(t)) for t in row_labels] if row_labels is not None else None
    font = ImageFont.load_default()
    margin = 0
    if labels:
        margin = max(int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(t, font=font)) for t in labels) + 2 * pad
    grid = np.full((len(rows) * (ch + pad) + pad, margin + max(cols, 1) * (cw + pad) + pad, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for j, i in enumerate(row):
            img = (images[int(i)].clamp(0, 1).numpy().transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
            img = np.repeat(np.repeat(img, scale, 0), scale, 1)
            if c == 1:
                img = np.repeat(img, 3, 2)
            top, left = pad + r * (ch + pad), margin + pad + j * (cw + pad)
            grid[top:top + ch, left:left + cw] = img[:, :, :3]
    picture = Image.fromarray(grid)
    if labels:
        draw = ImageDraw.Draw(picture)
        for r, text in enumerate(labels):
            draw.text((pad, pad + r * (ch + pad) + ch // 2), text, fill=(0, 0, 0), font=font, anchor="lm")
    picture.save(path)
    return Path(path)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
