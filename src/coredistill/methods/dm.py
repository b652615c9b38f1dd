"""``dm``: Distribution Matching (Zhao & Bilen, WACV 2023).

Each iteration samples a fresh randomly initialized network ψ (parameters frozen) and, per class c,

    loss += || mean_{x ∈ real batch_c} ψ(A(x)) − mean_{s ∈ S_c} ψ(A(s)) ||²

with A the Siamese DSA (one draw per class, shared by the real and the synthetic side) and real embeddings
computed without autograd. ``batched=True`` sends all classes through one forward (identical to per-class
forwards for per-sample norms; never with batch norm). Default: batched on CUDA, per class on CPU, where
``benchmarks/step_speed.py`` measured the batched forward 0.8x as fast as per-class forwards (2 cores).

``compiled=True`` runs the real side — nearly all of DM's time — through ``torch.compile`` (inductor fuses each
norm + activation + pooling stage). The network's weights are inputs of the compiled function
(:func:`~coredistill.models.compiled.compiled_call`), so the fresh network of every iteration reuses one
compilation (seconds to tens of seconds, once per process and batch shape; inductor's on-disk cache makes later
processes cheaper). ``compiled=None`` (default) compiles on the CPU
for runs of at least :data:`COMPILE_FROM_ITERATIONS` iterations, where the one-off cost is a small share (the
``paper`` preset); shorter runs (``cpu``, ``tiny``) stay eager, bit-identical to the code before the default
changed. Compiled and eager losses agree to float tolerance, not bit for bit. Untested on GPUs so far:
there the default stays eager.
"""
from __future__ import annotations

import torch
from torch import nn

from ..models.base import has_batch_norm
from ..models.compiled import compiled_call
from ..params import BOOL, optional
from .base import METHODS, Context, Method, weighted_mean

COMPILE_FROM_ITERATIONS = 1000


def _flat(features, x: torch.Tensor) -> torch.Tensor:
    return features(x).flatten(1)


@METHODS.decorator("dm")
class DM(Method):
    lr_images = 1.0
    eval_dsa = True
    uses_dsa = True
    parallel = "classes"
    # chosen on validation splits (benchmarks/results/aligned-rule.md): uniform batches at IPC 1, the coreset
    # paper's loss-proportional batches at IPC 10
    aligned_sampling = {1: None, 10: {"gamma": 1.0}}
    constraints = {"batched": optional(BOOL), "compiled": optional(BOOL)}

    def __init__(self, iterations: int = 20000, batch_real: int = 256, lr_images: float = 1.0,
                 batched: bool | None = None, compiled: bool | None = None) -> None:
        self.iterations = iterations
        self.batch_real = batch_real
        self.lr_images = lr_images
        self.batched = batched
        self.compiled = compiled

    def _compiles(self, device: torch.device) -> bool:
        if self.compiled is not None:
            return bool(self.compiled)
        return device.type == "cpu" and self.iterations >= COMPILE_FROM_ITERATIONS

    def _real_embedder(self, net: nn.Module, device: torch.device):
        """``embed`` for the real side: the net itself, or one compilation shared by every fresh net."""
        if not self._compiles(device):
            return net.embed
        return compiled_call(net.features, _flat, "dm.real-features")

    def losses(self, syn, labels, ctx: Context):
        net = ctx.new_net()
        net.train()
        for p in net.parameters():
            p.requires_grad_(False)
        batches = list(ctx.class_batches(self.batch_real, syn))
        reals, syns, weights = [b.real for b in batches], [b.syn for b in batches], [b.weights for b in batches]
        batched = self.batched if self.batched is not None else ctx.device.type == "cuda"
        embed_real = self._real_embedder(net, ctx.device)
        if has_batch_norm(net) or not batched:  # batch statistics must stay per class, as in the original
            with torch.no_grad():
                emb_real = [embed_real(x) for x in reals]
            emb_syn = [net.embed(x) for x in syns]
        else:
            with torch.no_grad():
                emb_real = embed_real(torch.cat(reals)).split([len(x) for x in reals])
            emb_syn = net.embed(torch.cat(syns)).split([len(x) for x in syns])
        loss = syn.new_zeros(())
        for er, es, w in zip(emb_real, emb_syn, weights):
            loss = loss + ((weighted_mean(er, w) - es.mean(0)) ** 2).sum()
        yield loss
