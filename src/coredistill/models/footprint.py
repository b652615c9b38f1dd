"""Activation footprint of a model, and the chunk size that keeps a forward pass inside the CPU's caches.

The field's small ConvNets are memory-bound on a CPU: normalization, activation and pooling stream every
activation through memory, and a batch whose largest activation outgrows the last-level cache runs several
times slower per image than one that fits. Large forward passes (the test set) and large training batches are
therefore run in chunks of :func:`cache_chunk` images; per-sample layers make the chunked result the same up to
float summation order.

>>> from coredistill.models import create_model
>>> net = create_model("ConvNet", 1, 10, 28, width=32)
>>> largest_activation_bytes(net)  # the first block's 32 x 32 x 32 float32 map
131072
>>> cache_chunk(net, unknown=256)
64
"""
from __future__ import annotations

import torch
from torch import nn

from .base import has_batch_norm

# Budget for the largest activation of a chunk. A training step keeps several activations of that size alive,
# so this is a fraction of a last-level cache share; chosen by measuring chunk sizes (benchmarks/throughput.py).
CACHE_BUDGET_BYTES = 8 * 2**20


def largest_activation_bytes(model: nn.Module) -> int | None:
    """Bytes of the largest output of any leaf module for one input image (probed with a forward on zeros);
    ``None`` for a model not built by ``create_model`` (its input shape is unknown)."""
    cached = getattr(model, "_largest_activation_bytes", None)
    if cached is not None:
        return cached
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return None
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel() * out.element_size()))
             for m in model.modules() if not list(m.children())]
    param = next(model.parameters(), None)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *shape, dtype=param.dtype if param is not None else torch.float32,
                              device=param.device if param is not None else "cpu"))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    model._largest_activation_bytes = max(sizes, default=0)
    return model._largest_activation_bytes


def cache_chunk(model: nn.Module, unknown: int, budget: int = CACHE_BUDGET_BYTES, lo: int = 16,
                hi: int = 1024) -> int:
    """Images per chunk: the largest power of two whose largest activation fits ``budget``, within [lo, hi];
    ``unknown`` when the model's footprint cannot be probed."""
    per_image = largest_activation_bytes(model)
    if per_image is None:
        return unknown
    per_image = max(per_image, 1)
    n = max(1, budget // per_image)
    return int(min(hi, max(lo, 1 << (n.bit_length() - 1))))


def in_cache_chunks(fn, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``fn(x)`` computed in :func:`cache_chunk`-sized row chunks of ``model`` on the CPU, concatenated (one call
    elsewhere, or for a model whose batch norm is in training mode, where the chunks' statistics would differ).

    For the forward passes of nets that see many images at once (feature extraction, scoring, a kernel's random
    nets); per-sample layers compute each row the same way whatever the chunk.
    """
    if x.device.type != "cpu" or (model.training and has_batch_norm(model)):
        return fn(x)
    chunk = cache_chunk(model, unknown=len(x))
    if len(x) <= chunk:
        return fn(x)
    return torch.cat([fn(x[s:s + chunk]) for s in range(0, len(x), chunk)])
