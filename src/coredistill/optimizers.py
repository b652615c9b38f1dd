"""Optimizers the field's methods use that torch does not ship.

AdaBelief (Zhuang et al., NeurIPS 2020, Algorithm 2) is Adam with the second moment taken of the gradient's
deviation from its running mean instead of the gradient itself:

    m_t = β₁ m_{t-1} + (1 - β₁) g_t
    s_t = β₂ s_{t-1} + (1 - β₂) (g_t - m_t)² + ε
    θ_t = θ_{t-1} - α · (m_t / (1 - β₁ᵗ)) / (sqrt(s_t / (1 - β₂ᵗ)) + ε)

Where gradients agree from step to step, s stays small and the step grows beyond Adam's (about α per
coordinate); where they scatter, it behaves like Adam. RFAD's code runs it with ε = 1e-16.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0]))
>>> opt = AdaBelief([w], lr=0.1)
>>> (w ** 2).sum().backward(); opt.step()
>>> round(float(w.detach()), 4)  # a first step of lr/β₁: g deviates from m₁ = (1 - β₁)·g by β₁·g
0.8889
"""
from __future__ import annotations

import math

import torch

from .errors import invalid


class AdaBelief(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16) -> None:
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise invalid("lr", lr, "a positive finite number")
        if not (len(betas) == 2 and all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)):
            raise invalid("betas", betas, "two numbers in [0, 1)")
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
            raise invalid("eps", eps, "a finite number >= 0")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_var"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, s = state["exp_avg"], state["exp_avg_var"]
                g = p.grad
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                deviation = g - m
                s.mul_(beta2).addcmul_(deviation, deviation, value=1 - beta2).add_(eps)
                denom = (s / (1 - beta2 ** t)).sqrt_().add_(eps)
                p.addcdiv_(m, denom, value=-group["lr"] / (1 - beta1 ** t))
        return loss
