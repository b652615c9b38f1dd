"""``dc``: the DC / DSA / DM scripts' result file, ``{'data': [[images, labels], ...], 'accs_all_exps': ...}``
(one ``[images, labels]`` pair per experiment; images as trained: normalized, no ZCA). Also what
:meth:`DistilledSet.export` writes by default: images and class indices only."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..atomic import write_with
from ..errors import ArtifactError, invalid
from .base import Layout, ReleasedTensors, register, torch_file


@register
class DCLayout(Layout):
    name = "dc"
    description = "DC/DSA/DM .pt: {'data': [[images, labels], ...]} (option experiment, default 0)"

    def matches(self, path: Path) -> bool:
        return path.is_file() and path.suffix == ".pt" and not path.name.startswith(("images_", "labels_"))

    def read(self, path: Path, experiment: int = 0) -> ReleasedTensors:
        content: Any = torch_file(path)
        data = content.get("data") if isinstance(content, dict) else None
        if not isinstance(data, (list, tuple)) or not data:
            keys = sorted(map(str, content)) if isinstance(content, dict) else type(content).__name__
            raise ArtifactError(f"file={str(path)!r}: holds {keys}: expected the DC layout "
                                "{'data': [[images, labels], ...]}")
        if isinstance(experiment, bool) or not isinstance(experiment, int) or not -len(data) <= experiment < len(data):
            raise invalid("experiment", experiment, f"an index into the file's {len(data)} experiment(s)")
        pair = data[experiment]
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ArtifactError(f"file={str(path)!r}: data[{experiment}] is not an [images, labels] pair")
        return ReleasedTensors(pair[0], pair[1], files=[path])

    def write(self, path: Path, tensors: ReleasedTensors) -> list[Path]:
        write_with(path, lambda f: torch.save({"data": [[tensors.images, tensors.labels]]}, f))
        return [path]
