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
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .artifacts import DistilledSet, environment
from .atomic import config_hash
from .augment import DSA, default_strategy
from .centered_eval import (RFAD_VALIDATION_PER_CLASS, RFAD_WIDTH, CenteredResult, evaluate_centered,
                            rfad_finite_settings, validation_indices)
from .config import ExpertsConfig, RunConfig
from .data.dataset import ImageDataset
from .data.transforms import ZCA
from .device import resolve_device
from .distributed import current_shard
from .errors import invalid
from .folder_lock import exclusive
from .params import NON_NEGATIVE_INT
from .evaluate import EvalResult, evaluate
from .features import FeatureSpace, cached_features, create_features
from .methods import Context, DistillOutput, LoopSettings, Method, RealData, create_method, run_loop
from .methods.checkpoint import EvalProgress, tensor_digest
from .presets import Preset, get_preset
from .sampling import BatchSampler, create_sampler
from .seeding import child_seeds, torch_generator
from .select import Initializer, Selection, create_initializer
from .variants import get_variant

SEED_NAMES = ("select", "sampling", "distill", "eval", "features", "sampler")  # append only: keeps old seeds


def dataset_identity(dataset: ImageDataset, zca_eps: float | None) -> dict[str, Any]:
    """What identifies the training-space images (for the feature and teacher caches, expert buffers and
    checkpoints): the description and a content fingerprint, without where the files were read from — the same
    images under another path (another clone, machine or data folder) are the same data."""
    stride = max(1, len(dataset.x_train) // 1000)
    digest = hashlib.sha256(dataset.x_train[::stride].numpy().tobytes() + dataset.y_train.numpy().tobytes())
    described = {k: v for k, v in dataset.describe().items() if k != "source"}
    return {**described, "zca_eps": zca_eps, "fingerprint": digest.hexdigest()[:16]}


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


def distill(dataset: ImageDataset, *, ipc: int, method: str = "none", variant: str | None = None,
            init: str | None = None, sampler: str | None = None, preset: str | Preset = "cpu", seed: int = 0,
            zca_eps: float | None = None,
            method_options: dict[str, Any] | None = None, init_options: dict[str, Any] | None = None,
            sampler_options: dict[str, Any] | None = None, features: str | FeatureSpace | None = None,
            feature_options: dict[str, Any] | None = None, iterations: int | None = None, eval_every: int = 0,
            checkpoint_dir: str | Path | None = None, checkpoint_every: int = 0, resume: bool = False,
            evaluate_with: Sequence[str] | None = None, device: str | torch.device | None = None,
            dataset_options: dict[str, Any] | None = None, num_experts: int | None = None,
            experts_dir: str | Path | None = None, prune: float | None = None,
            prune_options: dict[str, Any] | None = None,
            init_filter: str | None = None, init_filter_options: dict[str, Any] | None = None,
            curve_nets: int | None = None, progress: bool = True) -> DistilledSet:
    """Distill ``dataset`` to ``ipc`` images per class and (by default) evaluate the result.

    ``init`` chooses the initial real images (any initializer; default ``random``), ``method`` learns from them
    with real batches drawn by ``sampler`` (default ``uniform``). ``variant`` names a recipe of
    :mod:`coredistill.variants` (e.g. ``"aligned-both"``) that sets them, and the pruning, feature space and
    options below, as a grid's cell of that variant does; a setting also given here must agree with it, given
    options merge over its own. The preset supplies each method's defaults (iterations, real batch size, ...), which
    ``method_options`` and ``iterations`` override. ``features`` is the selection feature space (default: the
    initializer's); ``evaluate_with`` names the eval architectures (default: the preset's model; ``()`` skips).
    With ``checkpoint_dir`` the loop checkpoints every ``checkpoint_every`` iterations and ``resume=True``
    continues from the last checkpoint to the same result as an uninterrupted run. A method that learns from
    expert trajectories (MTT) gets ``num_experts`` experts (default: the preset's) built (once, then reused)
    under ``experts_dir`` (default: the data folder's ``experts/``) by ``sampler``, unless
    ``method_options["experts"]`` names a buffer.
    ``prune`` removes that fraction of each class's hardest train images (by the loss of a teacher trained on
    the real train split, ``prune_options`` its options) before selection and distillation.
    ``init_filter="teacher-correct"`` lets the initializer choose only among the train images such a teacher
    classifies correctly (``init_filter_options``: its options); distillation still sees every image.
    ``curve_nets`` trains that many eval nets at each ``eval_every`` point (default: the preset's, as at the end).
    ``dataset_options`` are only recorded, so that ``coredistill evaluate`` can reload the same data.
    """
    given = {"init": init, "sampler": sampler, "features": features, "prune": prune, "init_filter": init_filter,
             "init_options": init_options, "sampler_options": sampler_options, "method_options": method_options,
             "prune_options": prune_options, "init_filter_options": init_filter_options,
             "feature_options": feature_options}
    settings = get_variant(variant).apply(method, given) if variant is not None else {
        **given, "init": init or "random", "sampler": sampler or "uniform", "prune": prune or 0.0}
    config = RunConfig.resolve(dataset.name, dataset.check_ipc(ipc), method=method, preset=preset, seed=seed,
                               dataset_options=dataset_options, zca_eps=zca_eps, eval_every=eval_every,
                               iterations=iterations, num_experts=num_experts, curve_nets=curve_nets, **settings)
    if variant is not None:
        config = replace(config, variant=variant)
    return run(config, dataset, evaluate_with=evaluate_with, device=device, checkpoint_dir=checkpoint_dir,
               checkpoint_every=checkpoint_every, resume=resume, experts_dir=experts_dir, progress=progress)


@dataclass
class Parts:
    """The run's registered components, created from a :class:`RunConfig` and checked before any work."""

    learner: Method
    initializer: Initializer
    sampler: BatchSampler
    space: FeatureSpace | None


def build_parts(config: RunConfig, experts: Path | None = None) -> Parts:
    """The run's components, their options checked. A method that learns from an expert buffer not built yet
    (``experts`` None) has its own options checked, and the buffer's batch sampler; the rest of its check (the
    buffer's epochs) runs when it is called again with the buffer."""
    options = dict(config.method_options)
    if experts is not None:
        options["experts"] = str(experts)
    learner = create_method(config.method, **options)
    if experts is None and config.experts is not None:
        learner.check_params()
        create_sampler(config.experts.sampler, **config.experts.sampler_options).check()
    else:
        learner.check()
    initializer = create_initializer(config.init, **config.init_options)
    batch_sampler = create_sampler(config.sampler, **config.sampler_options)
    batch_sampler.check()
    space = None
    if initializer.uses_features:
        # no features named: the method's own space if it has one (a KRR method's kernel), else the initializer's
        own = learner.selection_space() if config.features is None and not config.feature_options else None
        space = config.features if isinstance(config.features, FeatureSpace) else own or create_features(
            config.features or initializer.default_features, **config.feature_options)
    return Parts(learner, initializer, batch_sampler, space)


@dataclass
class Prepared:
    """The real data in the training space (normalized, ZCA-whitened if asked) and what identifies it."""

    train_x: torch.Tensor
    test_x: torch.Tensor
    zca: ZCA | None
    identity: dict[str, Any]


def prepare(dataset: ImageDataset, zca_eps: float | None) -> Prepared:
    zca = fit_zca(dataset, zca_eps)
    train_x, test_x = prepare_real(dataset, zca)
    return Prepared(train_x, test_x, zca, dataset_identity(dataset, zca_eps))


def ensure_experts(experts: ExpertsConfig, dataset: ImageDataset, root: str | Path | None = None, *,
                   device: str | torch.device | None = None, progress: bool = True,
                   seed_from: Sequence[str | Path] = ()) -> Path:
    """The expert buffer ``experts`` describes, under ``root`` (default: the data folder's ``experts/``): built
    when missing, finished when partial, reused when complete; experts that buffers of the same config in
    ``seed_from`` hold are copied, not trained."""
    from .data.paths import data_dir

    folder = Path(root if root is not None else data_dir() / "experts") / experts.folder_name
    return train_experts(dataset, folder, num_experts=experts.num_experts, preset=experts.preset,
                         zca_eps=experts.zca_eps, sampler=experts.sampler, sampler_options=experts.sampler_options,
                         device=device, progress=progress, seed_from=seed_from)


def select_initial(config: RunConfig, parts: Parts, dataset: ImageDataset, data: Prepared, seeds: dict[str, int],
                   device: torch.device, progress: bool, timings: dict[str, float]) -> Selection:
    """The initial real images (phase 1): features in the initializer's space, then the initializer."""
    t0 = time.perf_counter()
    feats = (np.empty((len(data.train_x), 0), np.float32) if parts.space is None else
             cached_features(parts.space, data.train_x, dataset_id=data.identity, seed=seeds["features"],
                             device=device, progress=progress, shard=current_shard(),
                             labels=dataset.y_train.numpy()))
    timings["features_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels, rng = dataset.y_train.numpy(), np.random.default_rng(seeds["select"])
    if config.init_filter is None:
        selection = parts.initializer.select(feats, labels, config.ipc, rng, shard=current_shard())
    else:  # "teacher-correct" (the one filter): choose among the images a teacher classifies correctly
        from .pruning import teacher_correct

        rows, how = teacher_correct(data.train_x, dataset.y_train, dataset.num_classes, config.ipc, config.preset,
                                    data.identity, device, config.init_filter_options)
        selection = parts.initializer.select(feats[rows], labels[rows], config.ipc, rng,
                                             shard=current_shard()).lifted(rows, len(labels), how)
    timings["select_s"] = time.perf_counter() - t0
    return selection


def run(config: RunConfig, dataset: ImageDataset, *, evaluate_with: Sequence[str] | None = None,
        device: str | torch.device | None = None, checkpoint_dir: str | Path | None = None,
        checkpoint_every: int = 0, resume: bool = False, experts_dir: str | Path | None = None,
        progress: bool = True) -> DistilledSet:
    """Run ``config`` on ``dataset`` (the data set it names, loaded with its ``dataset_options``): prepare the data space, select the initial images,
    learn, evaluate, record. See :func:`distill` for the arguments."""
    dataset.check_ipc(config.ipc)
    NON_NEGATIVE_INT.check("checkpoint_every", checkpoint_every)
    if checkpoint_dir is None and (checkpoint_every or resume):
        raise invalid("checkpoint_dir", None, "a folder when checkpoint_every > 0 or resume=True (where the "
                      "checkpoints are written and read)")
    p = config.preset
    dev = resolve_device(device)
    timings: dict[str, float] = {}
    seeds = child_seeds(config.seed, SEED_NAMES)
    # the components check their options before any work (a method that learns from experts: again once they exist)
    parts = build_parts(config)

    t0 = time.perf_counter()
    data = prepare(dataset, config.zca_eps)
    timings["prepare_s"] = time.perf_counter() - t0
    if config.prune:  # static pruning: the hardest of each class, by a teacher, gone before anything else
        from .pruning import hardest

        t0 = time.perf_counter()
        dropped, record_ = hardest(data.train_x, dataset.y_train, dataset.num_classes, config.prune, p, data.identity,
                                   dev, config.prune_options)
        dataset = dataset.without_train(dropped, record_)
        keep = torch.from_numpy(np.setdiff1d(np.arange(len(data.train_x)), dropped))
        data = Prepared(data.train_x[keep], data.test_x, data.zca, dataset_identity(dataset, config.zca_eps))
        timings["prune_s"] = time.perf_counter() - t0
    if config.experts is not None:  # trained on the pruned split when the run prunes (the buffer's identity says so)
        t0 = time.perf_counter()
        experts = ensure_experts(config.experts, dataset, experts_dir, device=dev, progress=progress)
        timings["experts_s"] = time.perf_counter() - t0
        parts = build_parts(config, experts)
    selection = select_initial(config, parts, dataset, data, seeds, dev, progress, timings)

    t0 = time.perf_counter()
    idx = torch.from_numpy(selection.indices)
    learner, y_train = parts.learner, dataset.y_train
    parts.sampler.setup(y_train.numpy(), dataset.num_classes, seed=seeds["sampler"])
    ctx = Context(RealData(data.train_x, y_train, dataset, data.identity), dataset.num_classes, config.ipc,
                  parts.sampler, np.random.default_rng(seeds["sampling"]), torch_generator(seeds["distill"]), dev,
                  p.model, dict(p.model_options),
                  DSA(strategy=default_strategy(dataset.allow_flip)) if learner.uses_dsa else None,
                  shard=current_shard())
    eval_dsa = p.eval_dsa and learner.eval_dsa
    eval_strategy = default_strategy(dataset.allow_flip)  # no flips for digits, in evaluation too
    eval_plain = p.augment_without_dsa(config.dataset)  # the name the run hashes it by

    # what a checkpoint must match: the run, the data's content, and every option with the code's defaults; an
    # expert buffer the run built is matched by its identity (in the run's), not by the folder it lies in
    method_options = learner.options()
    if config.experts is not None:
        method_options.pop("experts", None)
    resume_key = {"run": config.identity(), "dataset": data.identity, "method_options": method_options,
                  "init_options": parts.initializer.options(), "sampler_options": parts.sampler.options()}
    # a run stopped in an evaluation continues with the eval nets it had not finished (one process: each net's
    # accuracy is kept as it is tested; under torch.distributed the processes' nets are not tracked)
    eval_folder = Path(checkpoint_dir) if checkpoint_dir is not None and ctx.shard.world == 1 else None

    def evaluation(name: str, images: torch.Tensor, labels: torch.Tensor, *, model: str, seed: int,
                   lr: float | None = None, nets: int | None = None, show: bool = False) -> EvalResult:
        settings_ = {"model": model, "seed": seed, "lr": lr, "nets": nets}
        kept = EvalProgress(eval_folder, name, {"run": config_hash(resume_key), "images": tensor_digest(images),
                                                "labels": tensor_digest(labels), **settings_})
        return evaluate(images, labels, data.test_x, dataset.y_test, num_classes=dataset.num_classes, preset=p,
                        dsa=eval_dsa, dsa_strategy=eval_strategy, augment_without_dsa=eval_plain, device=dev,
                        done=kept.done(), on_net=kept.record, progress=show, **settings_)

    def evaluate_during(images: torch.Tensor, iteration: int) -> float:
        return evaluation(f"curve-{iteration}", images, y_train[idx], model=p.model, seed=seeds["eval"] + iteration,
                          nets=config.curve_nets).mean
    settings = LoopSettings(iterations=int(getattr(learner, "iterations", 0)), eval_every=config.eval_every,
                            checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir is not None else None,
                            checkpoint_every=checkpoint_every, resume=resume, config=resume_key)
    # a second run resuming these checkpoints would rotate them under this one (rank 0 alone writes them)
    writer = (exclusive(checkpoint_dir, "checkpoint_dir") if checkpoint_dir is not None and ctx.shard.rank == 0
              else nullcontext())
    with writer:  # held through the final evaluation too: its progress is kept in the same folder
        out = run_loop(learner, data.train_x[idx], y_train[idx], ctx, settings, evaluate=evaluate_during,
                       progress=progress)
        # a resumed run's distillation time includes what its checkpoint had already spent
        timings["distill_s"] = time.perf_counter() - t0 + out.log.get("seconds_before_resume", 0.0)

        result = DistilledSet(out.images.detach().cpu(), out.labels.cpu(),
                              record(config, parts, dataset, selection, seeds, ctx, out, dev), out.soft_labels,
                              out.learned_lr, data.zca, None if selection.scores is None else
                              torch.from_numpy(selection.scores.astype(np.float32)))

        t0 = time.perf_counter()
        models = [p.model] if evaluate_with is None else list(evaluate_with)
        evals = {m: evaluation(f"final-{m}", result.images,
                               result.labels if out.soft_labels is None else out.soft_labels, model=m,
                               seed=seeds["eval"], lr=out.learned_lr, show=progress) for m in models}
    manifest = result.manifest
    manifest["metrics"] = {m: r.to_dict() for m, r in evals.items()}
    if models:
        manifest["metrics"].update(learner.metrics(result.images, y_train[idx], data.test_x, dataset.y_test, ctx,
                                                   seeds["eval"]))
    timings["eval_s"] = time.perf_counter() - t0
    if evals and (manifest["curve"] or settings.iterations):
        manifest["curve"] = manifest["curve"] + [{"iteration": settings.iterations, "accuracy": evals[models[0]].mean}]
    manifest["timings"] = timings
    return result


def record(config: RunConfig, parts: Parts, dataset: ImageDataset, selection: Selection, seeds: dict[str, int],
           ctx: Context, out: DistillOutput, device: torch.device) -> dict[str, Any]:
    """The manifest of a finished run: its resolved configuration, the options every component ran with (the
    code's defaults included), the selection, seeds, environment and the loop's log."""
    space = parts.space
    return {
        "run": config.to_dict(),
        "dataset": dataset.describe(), "dataset_options": config.dataset_options,
        "normalization": {**dataset.normalizer().to_dict(), "zca_eps": config.zca_eps},
        "ipc": config.ipc, "method": {"name": config.method, "options": parts.learner.options(),
                                      "eval_dsa": parts.learner.eval_dsa, "uses_dsa": parts.learner.uses_dsa,
                                      "dsa_strategy": ctx.dsa.strategy if ctx.dsa is not None else None},
        "initializer": {"name": config.init, "options": parts.initializer.options(), **selection.to_manifest(),
                        "features": None if space is None else {"name": space.name, "options": space.options(),
                                                                 "seed": seeds["features"]}},
        "sampler": {"name": config.sampler, "options": parts.sampler.options()},
        "experts": None if config.experts is None else {**config.experts.identity(), "hash": config.experts.hash},
        "preset": config.preset.to_dict(), "seed": config.seed, "seeds": seeds, "device": str(device),
        "processes": ctx.shard.world, "environment": environment(), "log": out.log,
        "curve": out.log.get("curve", []),
    }


def train_experts(dataset: ImageDataset, folder: str | Path, *, num_experts: int | None = None,
                  epochs: int | None = None,
                  preset: str | Preset = "cpu", zca_eps: float | None = None, sampler: str = "uniform",
                  sampler_options: dict[str, Any] | None = None, seed: int = 0,
                  device: str | torch.device | None = None, progress: bool = True,
                  seed_from: Sequence[str | Path] = ()) -> Path:
    """Train MTT expert trajectories on ``dataset`` (in the same normalization / ZCA a later ``distill`` uses)
    into ``folder``; resumes a partial build. The preset gives the model, the epochs, the batch size and, unless
    ``num_experts`` is given, how many experts (``Preset.num_experts``: the count a ``distill`` run builds).
    ``seed_from``: buffers whose experts of the same config are copied instead of trained (expert i is one
    trajectory whatever the buffer's size)."""
    from .methods.experts import build_experts

    p = get_preset(preset)
    dev = resolve_device(device)
    train_x, _ = prepare_real(dataset, fit_zca(dataset, zca_eps))
    options = p.experts
    return build_experts(train_x, dataset.y_train, dataset.num_classes, folder,
                         dataset_id=dataset_identity(dataset, zca_eps), model=p.model,
                         model_options=dict(p.model_options),
                         num_experts=p.num_experts() if num_experts is None else num_experts,
                         epochs=epochs if epochs is not None else options["epochs"], lr=options["lr"],
                         batch_size=options["batch_size"], sampler=sampler, sampler_options=sampler_options,
                         dsa_strategy=default_strategy(dataset.allow_flip) if options["dsa"] else None, seed=seed,
                         device=dev, progress=progress, seed_from=seed_from)


def evaluate_artifact(artifact: DistilledSet, dataset: ImageDataset, *, models: Sequence[str] | None = None,
                      preset: str | Preset | None = None, seed: int | None = None, **overrides: Any
                      ) -> dict[str, EvalResult]:
    """Re-evaluate a saved set on ``dataset``'s test split, in the artifact's own normalization / ZCA."""
    m = artifact.manifest
    p = get_preset(preset or m.get("preset", {}).get("name", "cpu"))
    test_x = _in_artifact_space(artifact, dataset, dataset.test_float())
    labels = artifact.soft_labels if artifact.soft_labels is not None else artifact.labels
    eval_seed = seed if seed is not None else m.get("seeds", {}).get("eval", 0)
    overrides.setdefault("dsa", p.eval_dsa and bool(m.get("method", {}).get("eval_dsa", False)))
    overrides.setdefault("lr", artifact.learned_lr)
    overrides.setdefault("dsa_strategy", default_strategy(dataset.allow_flip))
    overrides.setdefault("augment_without_dsa", p.augment_without_dsa(dataset.name))
    return {name: evaluate(artifact.images, labels, test_x, dataset.y_test, num_classes=dataset.num_classes,
                           model=name, preset=p, seed=eval_seed, **overrides)
            for name in (models or [p.model])}


def _in_artifact_space(artifact: DistilledSet, dataset: ImageDataset, images: torch.Tensor) -> torch.Tensor:
    """``dataset``'s float images in the artifact's normalization / ZCA, after checking the two match."""
    from .data.transforms import Normalizer

    if list(artifact.images.shape[1:]) != [dataset.channels, *dataset.image_size]:
        raise invalid("dataset", dataset.name, f"images of shape {list(artifact.images.shape[1:])} like the "
                      f"artifact's (got {[dataset.channels, *dataset.image_size]})")
    hard = artifact.labels
    if len(hard) and (int(hard.min()) < 0 or int(hard.max()) >= dataset.num_classes):
        raise invalid("dataset", dataset.name, f"a data set with the artifact's classes (labels up to "
                      f"{int(hard.max())}; {dataset.name} has {dataset.num_classes} classes)")
    norm = artifact.normalizer if "normalization" in artifact.manifest else Normalizer(dataset.mean, dataset.std)
    out = norm(images)
    return artifact.zca(out) if artifact.zca is not None else out


def evaluate_artifact_centered(artifact: DistilledSet, dataset: ImageDataset, *, width: int = RFAD_WIDTH,
                               val_per_class: int = RFAD_VALIDATION_PER_CLASS, seed: int | None = None,
                               **overrides: Any) -> CenteredResult:
    """Score a saved set by RFAD's finite-network protocol (:mod:`coredistill.centered_eval`) with RFAD's
    published settings for the artifact's data set and IPC; ``overrides`` replace them (all three of ``lr``,
    ``weight_decay``, ``label_scale`` for a data set / IPC RFAD did not publish) or pass ``nets``, ``max_steps``,
    ``device``, ...; the best-step choice on ``val_per_class`` train images per class. A set whose kernel method
    learned its labels trains on those regression targets (``settings["targets"]`` says which targets ran)."""
    m = artifact.manifest
    ipc = m.get("ipc")
    given = {k: v for k, v in overrides.items() if v is not None}
    own = ("lr", "weight_decay", "label_scale")
    settings = {} if all(k in given for k in own) else rfad_finite_settings(dataset.name,
                                                                            ipc if isinstance(ipc, int) else -1)
    settings.update(given)
    eval_seed = seed if seed is not None else m.get("seeds", {}).get("eval", 0)
    val = validation_indices(dataset.y_train, val_per_class, dataset.num_classes, eval_seed)
    val_x = _in_artifact_space(artifact, dataset, dataset.train_float(val))
    test_x = _in_artifact_space(artifact, dataset, dataset.test_float())
    # a kernel method that learned its labels (regression targets, kept in its log) trains on them, as RFAD's own
    # evaluation of such a set does
    learned = (m.get("log") or {}).get("learned_labels")
    labels = (torch.tensor(learned, dtype=torch.float32) if learned is not None else
              artifact.soft_labels if artifact.soft_labels is not None else artifact.labels)
    return evaluate_centered(artifact.images, labels, val_x, dataset.y_train[val], test_x, dataset.y_test,
                             num_classes=dataset.num_classes, width=width, seed=eval_seed, **settings)
