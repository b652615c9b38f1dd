"""One ``torch.compile`` per architecture, shared by every fresh net of that architecture.

Distillation and evaluation build many nets of one architecture (a fresh one per DM iteration, one per eval net).
Compiling each net would compile again for every instance; instead a net's weights are *inputs* of one compiled
function of ``(weights, inputs)`` (``torch.func.functional_call`` on a template of the architecture), so all nets
of an architecture reuse one compilation per body and input shape. Gradients reach the net's own parameters.
Compiled and eager results agree to float tolerance, not bit for bit. Callers decide which nets to compile:
evaluation keeps nets with batch norm eager (their running statistics are buffers updated in place).
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import nn
from torch.func import functional_call

_COMPILED: dict[tuple[str, type, str], Callable[..., Any]] = {}


def compiled_call(net: nn.Module, body: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``body(module, *inputs)`` compiled once per (``name``, architecture) in this process and bound to ``net``'s
    current weights: the returned ``call(*inputs)`` equals ``body(net, *inputs)`` up to float tolerance (``body``
    only calls ``module(...)``). ``name`` identifies ``body``: two bodies under one name would share one
    compilation."""
    key = (name, type(net), repr(net))  # the repr names every layer's shape: the architecture, not the instance
    fn = _COMPILED.get(key)
    if fn is None:
        template = copy.deepcopy(net)  # not the first net itself: dynamo would specialize on its weights' identity

        def functional(state: dict[str, torch.Tensor], *inputs: Any) -> Any:
            return body(lambda *x: functional_call(template, state, x), *inputs)

        fn = _COMPILED[key] = torch.compile(functional, dynamic=False)
    state = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    return lambda *inputs: fn(state, *inputs)
