"""Is instance norm's double backward worth writing out by hand? A negative result, kept reproducible.

Gradient matching (DC/DSA) and MTT's unrolled student differentiate through a backward pass, and autograd composes
group norm's double backward from element-wise kernels. Three ways of normalizing, the same ConvNet-3 (width 32,
MNIST-sized), timed interleaved in one process (CPU seconds, best of ``--rounds``):

* ``native`` — ``F.group_norm`` (what the models use);
* ``composed`` — mean / var / rsqrt written as tensor ops;
* ``written-out`` — an ``autograd.Function``: ATen's ``native_group_norm`` forward; its backward is ATen's fused
  kernel when no graph is built, else ``rstd * (g - mean(g) - x̂ * mean(g * x̂))`` with the statistics recomputed
  from the input so that the second backward reaches them.

on an MTT unrolled student (IPC 10, ``--steps`` steps) and a DC matching step (64 real images, IPC 10), with the
image gradient's agreement with ``native`` printed. The DC step matches every parameter's gradient but the conv
biases ahead of each norm: a norm cancels a per-channel bias, so their true gradient is zero and their cosine
distance is float noise, which would make the three ways disagree in value for no reason of theirs.

    python benchmarks/norm_double_backward.py --threads 1
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

WIDTH, EPS = 32, 1e-5


class _WrittenOut(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        n, c, h, wd = x.shape
        y, mean, rstd = torch.ops.aten.native_group_norm(x, w, b, n, c, h * wd, c, EPS)
        ctx.save_for_backward(x, w, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w, mean, rstd = ctx.saved_tensors
        n, c, h, wd = x.shape
        if not torch.is_grad_enabled():
            return torch.ops.aten.native_group_norm_backward(gy, x, mean, rstd, w, n, c, h * wd, c, [True] * 3)
        m = x.mean((2, 3), keepdim=True)
        r = torch.rsqrt(x.var((2, 3), unbiased=False, keepdim=True) + EPS)
        xhat = (x - m) * r
        g = gy * w.view(1, c, 1, 1)
        gx = r * (g - g.mean((2, 3), keepdim=True) - xhat * (g * xhat).mean((2, 3), keepdim=True))
        return gx, (gy * xhat).sum((0, 2, 3)), gy.sum((0, 2, 3))


def _native(x, w, b):
    return F.group_norm(x, x.shape[1], w, b, EPS)


def _composed(x, w, b):
    m, v = x.mean((2, 3), keepdim=True), x.var((2, 3), unbiased=False, keepdim=True)
    return (x - m) * torch.rsqrt(v + EPS) * w.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)


NORMS = {"native": _native, "composed": _composed, "written-out": _WrittenOut.apply}


def _params() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    ps = []
    for layer in range(3):
        ps += [torch.randn(WIDTH, 1 if layer == 0 else WIDTH, 3, 3, generator=g) * 0.1, torch.zeros(WIDTH),
               torch.ones(WIDTH), torch.zeros(WIDTH)]
    return [p.requires_grad_(True) for p in ps + [torch.randn(10, WIDTH * 9, generator=g) * 0.05, torch.zeros(10)]]


def _net(ps, x, norm):
    for i in range(0, 12, 4):
        x = F.avg_pool2d(F.relu(norm(F.conv2d(x, ps[i], ps[i + 1], padding=1), ps[i + 2], ps[i + 3])), 2)
    return F.linear(x.flatten(1), ps[12], ps[13])


def mtt_step(norm, steps: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(100, 1, 28, 28, generator=g, requires_grad=True)
    y = torch.arange(10).repeat_interleave(10)
    start = _params()
    ps = start
    for _ in range(steps):
        grads = torch.autograd.grad(F.cross_entropy(_net(ps, x, norm), y), ps, create_graph=True)
        ps = [p - 0.01 * q for p, q in zip(ps, grads)]
    target = sum(((p - s.detach() - 0.1) ** 2).sum() for p, s in zip(ps, start))
    return torch.autograd.grad(target, x)[0]


def dc_step(norm, steps: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    real = torch.randn(64, 1, 28, 28, generator=g)
    syn = torch.randn(10, 1, 28, 28, generator=g, requires_grad=True)
    ps = _params()
    g_real = torch.autograd.grad(F.cross_entropy(_net(ps, real, norm), torch.arange(64) % 10), ps)
    g_syn = torch.autograd.grad(F.cross_entropy(_net(ps, syn, norm), torch.arange(10)), ps, create_graph=True)
    biases_before_norms = {1, 5, 9}
    dist = sum(1 - F.cosine_similarity(a.flatten(), b.flatten(), 0)
               for i, (a, b) in enumerate(zip(g_real, g_syn)) if i not in biases_before_norms)
    return torch.autograd.grad(dist, syn)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} thread(s); speed relative to native (CPU s, best of {a.rounds})")
    for name, step in (("mtt unrolled student", mtt_step), ("dc matching step", dc_step)):
        ref = step(_native, a.steps)
        seconds = {k: [] for k in NORMS}
        for _ in range(a.rounds):
            for k, norm in NORMS.items():
                t = time.process_time()
                step(norm, a.steps)
                seconds[k].append(time.process_time() - t)
        base = min(seconds["native"])
        for k, norm in NORMS.items():
            diff = ((step(norm, a.steps) - ref).abs().max() / ref.abs().max()).item()
            print(f"{name:22s} {k:12s} {base / min(seconds[k]):5.2f}x  ({min(seconds[k]):.3f} s; "
                  f"image grad max rel diff {diff:.1e})")


if __name__ == "__main__":
    main()
