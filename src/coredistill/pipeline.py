"""The main job: data -> initial selection -> distillation method -> evaluation -> DistilledSet.

>>> from coredistill.data import load_dataset
>>> ds = load_dataset("digits")
>>> result = distill(ds, ipc=1, preset="tiny", evaluate_with=(), progress=False)
>>> result.images.shape
torch.Size([10, 1, 8, 8])
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .artifacts import DistilledSet, environment
from .augment import DSA, default_strategy
from .data.dataset import ImageDataset
from .data.transforms import ZCA
from .device import resolve_device
from .distributed import current_shard
from .methods import Context, LoopSettings, RealData, create_method, run_loop
from .errors import invalid
from .evaluate import EvalResult, evaluate
from .features import FeatureSpace, cached_features, create_features
from .presets import Preset, get_preset
from .sampling import create_sampler
from .seeding import child_seeds, torch_generator
from .select import create_initializer

SEED_NAMES = ("select", "sampling", "distill", "eval", "features", "sampler")  # append only: keeps old seeds


def dataset_identity(dataset: ImageDataset, zca_eps: float | None) -> dict[str, Any]:
    """What identifies the training-space images for the feature cache: description + a content fingerprint."""
    stride = max(1, len(dataset.x_train) // 1000)
    digest = hashlib.sha256(dataset.x_train[::stride].numpy().tobytes() + dataset.y_train.numpy().tobytes())
    return {**dataset.describe(), "zca_eps": zca_eps, "fingerprint": digest.hexdigest()[:16]}


def selection_features(dataset: ImageDataset, train_x: torch.Tensor, space: FeatureSpace, *, seed: int,
                       zca_eps: float | None, device: torch.device, progress: bool) -> np.ndarray:
    return cached_features(space, train_x, dataset_id=dataset_identity(dataset, zca_eps), seed=seed, device=device,
                           progress=progress, shard=current_shard())


def fit_zca(dataset: ImageDataset, zca_eps: float | None) -> ZCA | None:
    """ZCA whitening fitted on the normalized train images (``None`` when ``zca_eps`` is ``None``)."""
    if zca_eps is not None and dataset.memory_mapped:
        raise invalid("zca_eps", zca_eps, f"None for the memory-mapped data set {dataset.name!r} (ZCA is fitted "
                      "on the whole train split in memory)")
    return ZCA(zca_eps).fit(dataset.normalizer()(dataset.train_float())) if zca_eps is not None else None


def prepare_real(dataset: ImageDataset, zca: ZCA | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test images in the training space: normalized, then ZCA-whitened if ``zca`` is given. A
    memory-mapped train split becomes a :class:`~coredistill.data.views.TrainingImages` view (rows on access)."""
    norm = dataset.normalizer()
    if dataset.memory_mapped:
        from .data.views import TrainingImages

        test = norm(dataset.test_float())
        return TrainingImages(dataset.x_train, norm, zca), zca(test) if zca is not None else test
    train, test = norm(dataset.train_float()), norm(dataset.test_float())
    if zca is not None:
        train, test = zca(train), zca(test)
    return train, test


def distill(dataset: ImageDataset, *, ipc: int, method: str = "none", init: str = "random",
            sampler: str = "uniform", preset: str | Preset = "cpu", seed: int = 0, zca_eps: float | None = None,
            method_options: dict[str, Any] | None = None, init_options: dict[str, Any] | None = None,
            sampler_options: dict[str, Any] | None = None, features: str | FeatureSpace | None = None,
            feature_options: dict[str, Any] | None = None, iterations: int | None = None, eval_every: int = 0,
            checkpoint_dir: str | Path | None = None, checkpoint_every: int = 0, resume: bool = False,
            evaluate_with: Sequence[str] | None = None, device: str | torch.device | None = None,
            dataset_options: dict[str, Any] | None = None, progress: bool = True) -> DistilledSet:
    """Distill ``dataset`` to ``ipc`` images per class and (by default) evaluate the result.

    ``init`` chooses the initial real images (any initializer), ``method`` learns from them with real batches
    drawn by ``sampler``; the preset supplies each method's defaults (iterations, real batch size, ...), which
    ``method_options`` and ``iterations`` override. ``features`` is the selection feature space (default: the
    initializer's); ``evaluate_with`` names the eval architectures (default: the preset's model; ``()`` skips).
    With ``checkpoint_dir`` the loop checkpoints every ``checkpoint_every`` iterations and ``resume=True``
    continues from the last checkpoint to the same result as an uninterrupted run.
    ``dataset_options`` are only recorded, so that ``coredistill evaluate`` can reload the same data.
    """
    ipc = dataset.check_ipc(ipc)
    p = get_preset(preset)
    dev = resolve_device(device)
    initializer = create_initializer(init, **(init_options or {}))
    options = {**p.method_options(method, ipc), **(method_options or {})}
    if iterations is not None:
        options["iterations"] = iterations
    learner = create_method(method, **options)
    learner.check()
    batch_sampler = create_sampler(sampler, **{**p.sampler_options(sampler), **(sampler_options or {})})
    batch_sampler.check()
    for pname, value in (("eval_every", eval_every), ("checkpoint_every", checkpoint_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(pname, value, "an integer >= 0")
    space = None
    if initializer.uses_features:
        # no --features: the method's own space if it has one (a KRR method's kernel), else the initializer's
        own = learner.selection_space() if features is None and not feature_options else None
        space = features if isinstance(features, FeatureSpace) else own or create_features(
            features or initializer.default_features, **(feature_options or {}))
    seeds = child_seeds(seed, SEED_NAMES)
    timings: dict[str, float] = {}
    config = {"dataset": dataset_identity(dataset, zca_eps), "ipc": ipc, "method": method,
              "method_options": learner.options(), "init": init, "init_options": initializer.options(),
              "features": None if space is None else [space.name, space.options()], "sampler": sampler,
              "sampler_options": batch_sampler.options(), "preset": p.name, "seed": seed, "model": p.model,
              "model_options": p.model_options}

    t0 = time.perf_counter()
    zca = fit_zca(dataset, zca_eps)
    train_x, test_x = prepare_real(dataset, zca)
    timings["prepare_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    feats = (np.empty((len(train_x), 0), np.float32) if space is None else
             selection_features(dataset, train_x, space, seed=seeds["features"], zca_eps=zca_eps, device=dev,
                                progress=progress))
    timings["features_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    selection = initializer.select(feats, dataset.y_train.numpy(), ipc, np.random.default_rng(seeds["select"]),
                                   shard=current_shard())
    timings["select_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    idx = torch.from_numpy(selection.indices)
    batch_sampler.setup(dataset.y_train.numpy(), dataset.num_classes, seed=seeds["sampler"])
    ctx = Context(RealData(train_x, dataset.y_train, dataset, config["dataset"]), dataset.num_classes, ipc, batch_sampler,
                  np.random.default_rng(seeds["sampling"]), torch_generator(seeds["distill"]), dev, p.model,
                  dict(p.model_options), DSA(strategy=default_strategy(dataset.allow_flip)) if learner.uses_dsa else None,
                  shard=current_shard())
    eval_dsa = p.eval_dsa and learner.eval_dsa
    eval_strategy = default_strategy(dataset.allow_flip)  # no flips for digits, in evaluation too

    def evaluate_during(images: torch.Tensor, iteration: int) -> float:
        r = evaluate(images, dataset.y_train[idx], test_x, dataset.y_test, num_classes=dataset.num_classes,
                     model=p.model, preset=p, dsa=eval_dsa, dsa_strategy=eval_strategy,
                     seed=seeds["eval"] + iteration, device=dev,
                     progress=False)
        return r.mean

    settings = LoopSettings(iterations=int(getattr(learner, "iterations", 0)), eval_every=eval_every,
                            checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir is not None else None,
                            checkpoint_every=checkpoint_every, resume=resume, config=config)
    out = run_loop(learner, train_x[idx], dataset.y_train[idx], ctx, settings, evaluate=evaluate_during,
                   progress=progress)
    timings["distill_s"] = time.perf_counter() - t0

    manifest: dict[str, Any] = {
        "dataset": dataset.describe(), "dataset_options": dataset_options or {},
        "normalization": {**dataset.normalizer().to_dict(), "zca_eps": zca_eps},
        "ipc": ipc, "method": {"name": method, "options": learner.options(), "eval_dsa": learner.eval_dsa,
                               "uses_dsa": learner.uses_dsa,
                               "dsa_strategy": ctx.dsa.strategy if ctx.dsa is not None else None},
        "initializer": {"name": init, "options": initializer.options(), **selection.to_manifest(),
                        "features": None if space is None else {"name": space.name, "options": space.options(),
                                                                 "seed": seeds["features"]}},
        "sampler": {"name": sampler, "options": batch_sampler.options()},
        "preset": p.to_dict(), "seed": seed, "seeds": seeds, "device": str(dev), "processes": ctx.shard.world,
        "environment": environment(),
        "log": out.log, "curve": out.log.get("curve", []),
    }
    scores = None if selection.scores is None else torch.from_numpy(selection.scores.astype(np.float32))
    result = DistilledSet(out.images.detach().cpu(), out.labels.cpu(), manifest, out.soft_labels, out.learned_lr, zca,
                          scores)

    t0 = time.perf_counter()
    models = [p.model] if evaluate_with is None else list(evaluate_with)
    evals = {m: evaluate(result.images, result.labels if out.soft_labels is None else out.soft_labels, test_x,
                         dataset.y_test, num_classes=dataset.num_classes, model=m, preset=p, dsa=eval_dsa,
                         dsa_strategy=eval_strategy, lr=out.learned_lr, seed=seeds["eval"], device=dev,
                         progress=progress) for m in models}
    manifest["metrics"] = {m: r.to_dict() for m, r in evals.items()}
    if models:
        manifest["metrics"].update(learner.metrics(result.images, dataset.y_train[idx], test_x, dataset.y_test, ctx,
                                                   seeds["eval"]))
    timings["eval_s"] = time.perf_counter() - t0
    if evals and (manifest["curve"] or settings.iterations):
        manifest["curve"] = manifest["curve"] + [{"iteration": settings.iterations, "accuracy": evals[models[0]].mean}]
    manifest["timings"] = timings
    return result


def train_experts(dataset: ImageDataset, folder: str | Path, *, num_experts: int = 10, epochs: int | None = None,
                  preset: str | Preset = "cpu", zca_eps: float | None = None, sampler: str = "uniform",
                  sampler_options: dict[str, Any] | None = None, seed: int = 0,
                  device: str | torch.device | None = None, progress: bool = True) -> Path:
    """Train MTT expert trajectories on ``dataset`` (in the same normalization / ZCA a later ``distill`` uses)
    into ``folder``; resumes a partial build. The preset gives the model, the epochs and the batch size."""
    from .methods.experts import build_experts

    p = get_preset(preset)
    dev = resolve_device(device)
    train_x, _ = prepare_real(dataset, fit_zca(dataset, zca_eps))
    options = p.experts
    return build_experts(train_x, dataset.y_train, dataset.num_classes, folder,
                         dataset_id=dataset_identity(dataset, zca_eps), model=p.model,
                         model_options=dict(p.model_options), num_experts=num_experts,
                         epochs=epochs if epochs is not None else options["epochs"], lr=options["lr"],
                         batch_size=options["batch_size"], sampler=sampler, sampler_options=sampler_options,
                         dsa_strategy=default_strategy(dataset.allow_flip) if options["dsa"] else None, seed=seed,
                         device=dev, progress=progress)


def evaluate_artifact(artifact: DistilledSet, dataset: ImageDataset, *, models: Sequence[str] | None = None,
                      preset: str | Preset | None = None, seed: int | None = None, **overrides: Any
                      ) -> dict[str, EvalResult]:
    """Re-evaluate a saved set on ``dataset``'s test split, in the artifact's own normalization / ZCA."""
    from .data.transforms import Normalizer

    m = artifact.manifest
    p = get_preset(preset or m.get("preset", {}).get("name", "cpu"))
    if list(artifact.images.shape[1:]) != [dataset.channels, *dataset.image_size]:
        raise invalid("dataset", dataset.name, f"images of shape {list(artifact.images.shape[1:])} like the artifact's "
                      f"(got {[dataset.channels, *dataset.image_size]})")
    norm = artifact.normalizer if "normalization" in m else Normalizer(dataset.mean, dataset.std)
    test_x = norm(dataset.test_float())
    if artifact.zca is not None:
        test_x = artifact.zca(test_x)
    labels = artifact.soft_labels if artifact.soft_labels is not None else artifact.labels
    eval_seed = seed if seed is not None else m.get("seeds", {}).get("eval", 0)
    overrides.setdefault("dsa", p.eval_dsa and bool(m.get("method", {}).get("eval_dsa", False)))
    overrides.setdefault("lr", artifact.learned_lr)
    overrides.setdefault("dsa_strategy", default_strategy(dataset.allow_flip))
    return {name: evaluate(artifact.images, labels, test_x, dataset.y_test, num_classes=dataset.num_classes,
                           model=name, preset=p, seed=eval_seed, **overrides)
            for name in (models or [p.model])}
