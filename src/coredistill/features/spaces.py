"""Feature spaces for selection (DESIGN §1d): pixels, random-network embeddings, kernel random features, or a
user's encoder. Each maps a batch of (normalized) images to an ``(N, D)`` float32 array, in chunks, under
``torch.inference_mode``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..distributed import ClassShard
from ..errors import invalid
from ..models import create_model
from ..models.footprint import in_cache_chunks
from ..params import POSITIVE_INT, Params, one_of
from ..registry import Registry
from ..seeding import spawn


class FeatureSpace(Params):
    """Base class: constructors store options only; :meth:`compute` does the work."""

    name = "base"
    constraints = {"batch_size": POSITIVE_INT}

    def compute(self, images: torch.Tensor, *, seed: int = 0, device: torch.device | str = "cpu",
                progress: bool = True, shard: ClassShard | None = None, allocate=None) -> np.ndarray:
        """``(N, D)`` float32 features of ``images``; with a ``shard`` of several processes, the work is split
        between them and every process receives all rows. ``allocate((N, D))``, when given, provides the output
        array (e.g. a memory-mapped file, for a data set larger than memory)."""
        raise NotImplementedError

    @property
    def cacheable(self) -> bool:
        return True


def _zeros(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def _chunked(fn, images: torch.Tensor, batch_size: int, device, desc: str, progress: bool,
             shard: ClassShard | None = None, allocate=None) -> np.ndarray:
    """``fn`` over ``images`` in chunks of ``batch_size`` rows, written into ``allocate((n, D))`` (default: zeros in
    memory; a memory-mapped file keeps them off the heap). With a ``shard`` of several processes, chunk k is
    computed by rank k mod world and the rows combined: the same chunks as one process, so the same bits."""
    shard = shard or ClassShard()
    allocate = allocate or _zeros
    out: np.ndarray | None = None
    bar = tqdm(total=len(images), desc=desc, unit="img", disable=None if progress else True, leave=False)
    with torch.inference_mode():
        for k, start in enumerate(range(0, len(images), batch_size)):
            if not shard.owns(k):
                continue
            chunk = fn(images[start:start + batch_size].to(device).float())
            chunk = chunk.reshape(len(chunk), -1).float().cpu().numpy()
            if out is None:  # allocate once the width is known: one copy of the features
                out = allocate((len(images), chunk.shape[1]))
            out[start:start + len(chunk)] = chunk
            bar.update(len(chunk))
        if out is None and len(images) and shard.world > 1:  # this rank owns no chunk: only the width is needed
            width = fn(images[:1].to(device).float()).reshape(1, -1).shape[1]
            out = allocate((len(images), width))
    bar.close()
    if out is None:
        return np.zeros((0, 0), np.float32)
    return shard.combine_rows(out)


def _embed(net: nn.Module):
    return lambda x: in_cache_chunks(net.embed, net, x)


FEATURES: Registry[type[FeatureSpace]] = Registry("features")  # entries register where they are defined


@FEATURES.decorator("pixels")
class Pixels(FeatureSpace):
    """The images themselves, flattened (already normalized / ZCA-whitened by the data layer)."""

    name = "pixels"

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None):
        # not split across processes: a copy costs less than combining it
        if not isinstance(images, torch.Tensor) or allocate is not None:  # rows read on access (memory-mapped)
            return _chunked(lambda x: x, images, 65536, "cpu", "pixels", progress, allocate=allocate)
        return images.reshape(len(images), -1).float().numpy().astype(np.float32, copy=True)


@FEATURES.decorator("random-nets")
class RandomNetEmbeddings(FeatureSpace):
    """Embeddings of ``num_nets`` randomly initialized networks (DM's view of the data).

    ``combine="concat"`` concatenates the nets' embeddings scaled by ``1/sqrt(num_nets)``, so squared distances are
    the *average* over nets of each net's squared distance; ``combine="mean"`` averages embeddings element-wise.
    """

    name = "random-nets"
    constraints = {"num_nets": POSITIVE_INT, "combine": one_of("concat", "mean")}

    def __init__(self, model: str = "ConvNet", num_nets: int = 4, combine: str = "concat", batch_size: int = 512,
                 **model_options: Any) -> None:
        self.model = model
        self.num_nets = num_nets
        self.combine = combine
        self.batch_size = batch_size
        self.model_options = model_options

    def _nets(self, images: torch.Tensor, seed: int, device) -> list[nn.Module]:
        c, h, w = images.shape[1:]
        return [create_model(self.model, c, 2, (h, w), seed=s, **self._net_options()).to(device).eval()
                for s in spawn(seed, self.num_nets)]

    def _net_options(self) -> dict[str, Any]:
        return self.model_options

    def _scale(self, dim: int) -> float:
        return 1.0 / math.sqrt(self.num_nets)

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None):
        self.check_params()
        nets = self._nets(images, seed, device)
        if allocate is not None and self.combine == "concat":
            return self._concat_into(nets, images, device, progress, shard, allocate)
        parts = [_chunked(_embed(net), images, self.batch_size, device, f"{self.name} {i + 1}/{len(nets)}",
                          progress, shard) for i, net in enumerate(nets)]
        if self.combine == "mean":
            return np.mean(parts, axis=0).astype(np.float32)
        scale = self._scale(parts[0].shape[1])
        return np.concatenate([p * scale for p in parts], axis=1).astype(np.float32)

    def _concat_into(self, nets, images, device, progress, shard, allocate) -> np.ndarray:
        """Each net's embeddings written straight into its column block of one ``allocate``d array."""
        whole: list[np.ndarray] = []

        def block(i: int):
            def columns(shape: tuple[int, int]) -> np.ndarray:
                if not whole:
                    whole.append(allocate((shape[0], shape[1] * len(nets))))
                return whole[0][:, i * shape[1]:(i + 1) * shape[1]]
            return columns

        for i, net in enumerate(nets):
            part = _chunked(_embed(net), images, self.batch_size, device, f"{self.name} {i + 1}/{len(nets)}",
                            progress, shard, block(i))
            part *= np.float32(self._scale(part.shape[1]))  # as the in-memory path: float32 product
        return whole[0] if whole else np.zeros((0, 0), np.float32)


@FEATURES.decorator("encoder")
class Encoder(FeatureSpace):
    """A user's ``torch.nn.Module`` mapping images to features (e.g. a pretrained encoder).

    Not cached on disk unless a ``cache_name`` identifying the weights is given.
    """

    name = "encoder"

    def __init__(self, module: nn.Module, batch_size: int = 512, cache_name: str | None = None) -> None:
        self.module = module
        self.batch_size = batch_size
        self.cache_name = cache_name

    def options(self) -> dict[str, Any]:
        return {**super().options(), "module": type(self.module).__name__}  # a manifest records its class

    @property
    def cacheable(self) -> bool:
        return self.cache_name is not None

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None):
        self.check_params()
        if not isinstance(self.module, nn.Module):
            raise invalid("module", type(self.module).__name__, "a torch.nn.Module")
        module = self.module.to(device)
        was_training = module.training
        module.eval()
        try:
            return _chunked(lambda x: in_cache_chunks(module, module, x), images, self.batch_size, device, "encoder",
                            progress, shard, allocate)
        finally:
            module.train(was_training)


@FEATURES.decorator("kernel")
class KernelFeatures(FeatureSpace):
    """The feature map Φ of a random-feature kernel of :mod:`coredistill.kernels` (e.g. ``nngp-rf``), drawn from
    the seed: the space in which a KRR distiller fits, so that ``kernel-leverage`` scores the same kernel."""

    name = "kernel"

    def __init__(self, kernel: str = "nngp-rf", batch_size: int = 512, **kernel_options: Any) -> None:
        self.kernel = kernel
        self.batch_size = batch_size
        self.kernel_options = kernel_options

    def _kernel_options(self) -> dict[str, Any]:
        return self.kernel_options

    def compute(self, images, *, seed=0, device="cpu", progress=True, shard=None, allocate=None):
        from ..kernels import create_kernel

        self.check_params()
        kernel = create_kernel(self.kernel, **self._kernel_options())
        if not hasattr(kernel, "features"):
            raise invalid("kernel", self.kernel, "a random-feature kernel (one with features(x)), e.g. 'nngp-rf'")
        kernel.setup(images[:2048].to(device).float(), 0, torch.device(device))
        kernel.resample(seed)
        return _chunked(kernel.features, images, self.batch_size, device, f"kernel {self.kernel}", progress, shard,
                        allocate)


@FEATURES.decorator("kernel-rf")
class KernelRandomFeatures(KernelFeatures):
    """The ConvNet NNGP random features (the ``nngp-rf`` kernel's map, the one RFAD fits with) at a CPU-friendly
    size: ``num_models`` random ConvNets of width ``width``. The default space of ``kernel-leverage`` for a method
    without a kernel of its own."""

    name = "kernel-rf"
    kernel = "nngp-rf"
    constraints = {"num_models": POSITIVE_INT, "width": POSITIVE_INT}

    def __init__(self, num_models: int = 4, width: int = 32, batch_size: int = 512, **kernel_options: Any) -> None:
        self.num_models = num_models
        self.width = width
        self.batch_size = batch_size
        self.kernel_options = kernel_options

    def _kernel_options(self) -> dict[str, Any]:
        return {"num_models": self.num_models, "width": self.width, **self.kernel_options}
