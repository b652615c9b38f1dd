"""The shared distillation loop: owns the synthetic images, their optimizer, evaluation, checkpoints, logs."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from ..errors import DivergenceError, invalid
from .base import Context, DistillOutput, Method
from .checkpoint import load_checkpoint, save_checkpoint, warn_on_resume


@dataclass
class LoopSettings:
    iterations: int
    eval_every: int = 0  # 0: only the caller's final evaluation
    checkpoint_dir: Path | None = None
    checkpoint_every: int = 0
    resume: bool = False
    config: dict[str, Any] = field(default_factory=dict)  # what a checkpoint must match to be resumed
    momentum: float = 0.5  # the field's SGD momentum on images


def curve_iterations(iterations: int, eval_every: int) -> list[int]:
    """The iterations after which a run of ``iterations`` evaluates for its curve: every ``eval_every``, except
    within half of that of the end, where the final evaluation stands for it (a point there would repeat it and
    skew the curve's last slope)."""
    if not eval_every:
        return []
    return [k for k in range(eval_every, iterations, eval_every) if 2 * (iterations - k) >= eval_every]


def run_loop(method: Method, images: torch.Tensor, labels: torch.Tensor, ctx: Context, settings: LoopSettings, *,
             evaluate: Callable[[torch.Tensor, int], float] | None = None, progress: bool = True) -> DistillOutput:
    """Optimize ``images`` with ``method``'s losses for ``settings.iterations`` iterations.

    ``evaluate(images, iteration) -> accuracy`` is called after each of :func:`curve_iterations` (its randomness
    must not come from ``ctx``, so that evaluation never changes the distillation). On resume, the loop restores the
    images, the optimizer, the sampler and both RNG states, so the result equals an uninterrupted run's.
    """
    iterations = settings.iterations
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise invalid("iterations", iterations, "an integer >= 0")
    points = set(curve_iterations(iterations, settings.eval_every))
    shard = ctx.shard
    if shard.world > 1 and method.parallel not in ("classes", "gradients"):
        raise invalid("method", type(method).__name__.lower(), f"a method that splits across processes (dm, dc, dsa, "
                      f"kip, rfad) when running on {shard.world} processes; run this one in a single process")
    syn = images.detach().clone().to(ctx.device).requires_grad_(True)
    labels = labels.to(ctx.device)
    method.setup(syn, labels, ctx)
    opt = method.make_optimizer([{"params": [syn], "lr": method.lr_images}, *method.extra_parameters()],
                                settings.momentum)
    # "seconds": distillation time without the periodic evaluations, which are timed apart ("eval_seconds")
    log: dict[str, Any] = {"loss": [], "curve": [], "seconds": 0.0, "eval_seconds": 0.0, "resumed_from": None}
    start = 0
    if settings.resume and settings.checkpoint_dir is not None:
        state = load_checkpoint(settings.checkpoint_dir, settings.config)
        if state is not None:
            with torch.no_grad():
                syn.copy_(state["images"].to(ctx.device))
            opt.load_state_dict(state["optimizer"])
            method.load_state_dict(state["method"])
            ctx.sampler.load_state_dict(state["sampler"])
            ctx.rng.bit_generator.state = state["numpy_rng"]
            ctx.generator.set_state(state["torch_generator"])
            log = state["log"]
            start = log["resumed_from"] = int(state["iteration"])
            # wall time the run had spent before this resume (distillation and periodic evaluations)
            log["seconds_before_resume"] = log["seconds"] + log.get("eval_seconds", 0.0)
            log["resumed_from_file"] = state["file"]
            warn_on_resume(state, "a run")
    bar = tqdm(total=iterations, initial=start, desc=type(method).__name__.lower(), unit="it",
               disable=None if progress else True, leave=False)
    t_start = time.perf_counter() - log["seconds"] - log.get("eval_seconds", 0.0)

    scoring = ctx.scoring(method.predictor())
    ctx.sampler.prepare(scoring)  # also after a resume, where the sampler's state is restored instead of updated

    def images_now() -> torch.Tensor:  # the images the optimized tensor stands for (Method.images_of)
        with torch.no_grad():
            return method.images_of(syn).detach()

    def update_sampler(done: int) -> None:
        ctx.sampler.update(iteration=done, total=iterations, images=images_now(), labels=labels,
                            scoring=scoring)

    if start == 0:
        update_sampler(0)  # a resumed run restored the sampler's state instead
    ctx.iterations = iterations
    for it in range(start, iterations):
        ctx.iteration = it
        total = 0.0
        for loss in method.losses(syn, labels, ctx):
            value = shard.total(float(loss.detach()))  # every process sees the whole loss (and stops together)
            if not math.isfinite(value):
                raise DivergenceError(f"loss={value} at iteration {it + 1}: expected a finite matching loss; the run "
                                      f"stopped without saving these images (lr_images={method.lr_images}; the last "
                                      "good checkpoint, if any, is kept)")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if method.parallel == "gradients":  # each process holds its share of the gradient: sum them
                shard.reduce_gradients([p for g in opt.param_groups for p in g["params"]])
            opt.step()
            if method.parallel == "classes":  # each process updated its own classes: all now hold the full set
                shard.sync(syn, labels)
            total += value
        if not torch.isfinite(syn).all():
            raise DivergenceError(f"images became NaN/Inf at iteration {it + 1}: expected finite values (try a lower "
                                  f"lr_images than {method.lr_images})")
        if not all(torch.isfinite(p).all() for g in method.extra_parameters() for p in g["params"]):
            raise DivergenceError(f"a learned parameter of {type(method).__name__} (labels, temperature, step "
                                  f"size or image map) became NaN/Inf at iteration {it + 1}: expected finite values "
                                  "(try lower learning rates for it, e.g. lr_labels, lr_temperature, lr_lr or "
                                  "lr_transform)")
        update_sampler(it + 1)
        log["loss"].append(total)
        bar.update(1)
        overhead = ctx.sampler.overhead_seconds
        elapsed = time.perf_counter() - t_start - log["eval_seconds"]
        bar.set_postfix(loss=f"{total:.4g}", **({"sampler": f"{overhead / elapsed:.0%}"} if overhead else {}))
        done = it + 1
        if evaluate is not None and done in points:
            t_eval = time.perf_counter()
            log["curve"].append({"iteration": done, "accuracy": evaluate(images_now().cpu(), done)})
            log["eval_seconds"] += time.perf_counter() - t_eval
        # the last iteration too: a run stopped in its final evaluation resumes there, not checkpoint_every back
        if settings.checkpoint_dir is not None and settings.checkpoint_every and (
                done % settings.checkpoint_every == 0 or done == iterations):
            log["seconds"] = time.perf_counter() - t_start - log["eval_seconds"]
            for value in (v for st in opt.state.values() for v in st.values()):
                if isinstance(value, torch.Tensor) and value.shape == syn.shape:
                    shard.sync(value, labels)  # momentum of each class lives on its own process
            if shard.rank == 0:
                save_checkpoint(settings.checkpoint_dir, {
                    "config": settings.config, "iteration": done, "images": syn.detach().cpu().clone(),
                    "optimizer": opt.state_dict(), "method": method.state_dict(),
                    "sampler": ctx.sampler.state_dict(), "numpy_rng": ctx.rng.bit_generator.state,
                    "torch_generator": ctx.generator.get_state(), "log": log,
                    "threads": torch.get_num_threads()})
    bar.close()
    log["seconds"] = time.perf_counter() - t_start - log["eval_seconds"]
    log["sampler_seconds"] = ctx.sampler.overhead_seconds
    log["sampler_share"] = log["sampler_seconds"] / log["seconds"] if log["seconds"] > 0 else 0.0
    log["sampler"] = ctx.sampler.report()
    out = DistillOutput(images_now().cpu(), labels.cpu(), log=log)
    method.finish(out, ctx)
    return out
