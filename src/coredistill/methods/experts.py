"""Expert trajectories for MTT: networks trained on the real data, one parameter snapshot per epoch.

Layout of an expert buffer (a directory)::

    manifest.json     format, config (data set identity, model + options, epochs, lr, batch size, sampler,
                      augmentation, seed), parameter names and shapes, finished experts, build seconds and the
                      batch sampler's diagnostics per expert (for relative-loss: its refreshes)
    expert_0000.pt    float32 tensor (epochs + 1, P): the flattened parameters at the start and after each epoch

Experts are written one file each, atomically, so a killed build resumes at the first missing expert; the expert
in training is also checkpointed after every epoch (``.expert_0000.partial/``, removed once its file is written), so
a build killed mid-expert resumes at its last finished epoch, to the trajectory an uninterrupted build gives (same
thread count). A buffer built with another config is refused. Expert i of a config is one trajectory whatever the
buffer's size (its seed is the i-th child of the build's seed), so a build can take the finished experts of other
buffers of the same config (``seed_from``) instead of training them again: a larger buffer starts from a smaller.
Expert training follows MTT's ``buffer.py``: SGD (lr 0.01, no momentum, no weight decay), batch 256, DSA on the
real images. Its real batches come from the batch-sampler registry —
``relative-loss`` scores the real data with the expert being trained and re-weights its batches every epoch:
this is where the coreset paper's phase (2) acts for MTT, whose distillation itself never touches real data.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..atomic import config_hash, write_text, write_with
from ..augment import DSA
from ..errors import CheckpointError, invalid
from ..folder_lock import exclusive
from ..params import POSITIVE_INT
from ..plain_files import load_plain, why_unreadable
from ..models import create_model
from ..models.footprint import in_cache_chunks
from ..sampling import BatchSampler, ScoringContext, create_sampler
from ..seeding import spawn, torch_generator
from .checkpoint import comparable, differing_keys, load_checkpoint, save_checkpoint, warn_on_resume

FORMAT = 1
MANIFEST = "manifest.json"


def expert_file(folder: Path, index: int) -> Path:
    return folder / f"expert_{index:04d}.pt"


def is_complete(folder: Path, num_experts: int) -> bool:
    """Whether ``folder`` already holds every one of ``num_experts`` experts (a build there trains nothing)."""
    return all(expert_file(folder, i).is_file() for i in range(num_experts))


def partial_folder(folder: Path, index: int) -> Path:
    """Where expert ``index`` is checkpointed while it trains."""
    return folder / f".expert_{index:04d}.partial"


class _CurrentNet:
    """Predictor for the importance sampler during expert training: the expert itself, as it is now."""

    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net

    def fit(self, images, labels, scoring, generator):
        def predict(x):
            was = self.net.training
            self.net.eval()
            with torch.inference_mode():
                out = in_cache_chunks(self.net, self.net, x)
            self.net.train(was)
            return out

        return predict


def _flat(net: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()]).float().cpu()


def build_experts(train_x: torch.Tensor, train_y: torch.Tensor, num_classes: int, folder: str | Path, *,
                  dataset_id: dict[str, Any], model: str = "ConvNet", model_options: dict[str, Any] | None = None,
                  num_experts: int, epochs: int = 50, lr: float = 0.01, batch_size: int = 256,
                  sampler: str = "uniform", sampler_options: dict[str, Any] | None = None,
                  dsa_strategy: str | None = None, seed: int = 0, device: torch.device | str = "cpu",
                  progress: bool = True, seed_from: Sequence[str | Path] = ()) -> Path:
    """Train ``num_experts`` experts into ``folder`` (resuming a partial build of the same config). Experts that
    a buffer in ``seed_from`` built with the same config are copied, with their build seconds, instead of trained
    (buffers of another config there are passed over)."""
    for name, value in (("num_experts", num_experts), ("epochs", epochs), ("batch_size", batch_size)):
        POSITIVE_INT.check(name, value)
    if not (isinstance(lr, (int, float)) and 0 < lr < float("inf")):
        raise invalid("lr", lr, "a positive finite learning rate")
    folder = Path(folder)
    dev = torch.device(device)
    model_options = dict(model_options or {})
    batch_sampler = create_sampler(sampler, **(sampler_options or {}))
    batch_sampler.check()
    config = {"dataset": dataset_id, "model": model, "model_options": model_options, "epochs": epochs, "lr": lr,
              "batch_size": batch_size, "sampler": sampler, "sampler_options": batch_sampler.options(),
              "dsa_strategy": dsa_strategy, "seed": seed}
    if _built(folder, config) and is_complete(folder, num_experts):  # another config's buffer is refused
        return folder  # nothing to write: a grid's cells read one built buffer side by side
    shape = tuple(train_x.shape[1:])
    template = create_model(model, shape[0], num_classes, shape[1:], seed=0, **model_options)
    with exclusive(folder, "folder"):  # a second builder would train, and checkpoint, the same expert
        old = _built(folder, config)  # read under the lock: what another builder finished is kept
        old = _adopt(folder, config, old, num_experts, seed_from)
        manifest = {"format": FORMAT, "config": config, "config_hash": config_hash(config),
                    "params": [[n, list(p.shape)] for n, p in template.named_parameters()],
                    "num_classes": num_classes, "image_shape": list(shape), "experts": [],
                    "seconds": dict(old.get("seconds", {})),  # build time per expert, kept across resumes
                    "sampler": dict(old.get("sampler", {}))}  # per expert: the batch sampler's diagnostics
        seeds = spawn(seed, num_experts)
        bar = tqdm(total=num_experts * epochs, desc="experts", unit="ep", disable=None if progress else True,
                   leave=False)
        for i, s in enumerate(seeds):
            path = expert_file(folder, i)
            if path.exists():
                bar.update(epochs)
            else:
                partial = partial_folder(folder, i)
                trajectory, seconds = _train_expert(train_x, train_y, num_classes, model, model_options, epochs,
                                                    lr, batch_size, batch_sampler, dsa_strategy, s, dev, bar,
                                                    dataset_id, partial=partial,
                                                    partial_config={**config, "expert": i})
                write_with(path, lambda f, t=trajectory: torch.save(t, f))
                shutil.rmtree(partial, ignore_errors=True)
                manifest["seconds"][str(i)] = seconds
                manifest["sampler"][str(i)] = batch_sampler.report()
            manifest["experts"] = [expert_file(folder, j).name for j in range(num_experts)
                                   if expert_file(folder, j).exists()]
            write_text(folder / MANIFEST, json.dumps(manifest, indent=2))
        bar.close()
    return folder


def _adopt(folder: Path, config: dict[str, Any], old: dict[str, Any], num_experts: int,
           sources: Sequence[str | Path]) -> dict[str, Any]:
    """Copy into ``folder`` the experts (below ``num_experts``) it lacks and a buffer in ``sources`` of the same
    ``config`` has; returns ``old`` (the folder's manifest) with their build seconds and sampler reports added."""
    old = {**old, "seconds": dict(old.get("seconds", {})), "sampler": dict(old.get("sampler", {}))}
    for source in map(Path, sources):
        missing = [i for i in range(num_experts) if not expert_file(folder, i).exists()]
        if not missing or source.resolve() == folder.resolve() or not (source / MANIFEST).is_file():
            continue
        try:
            theirs = _built(source, config)
        except (CheckpointError, ValueError, KeyError):  # another config (or not a buffer): not the same experts
            continue
        for i in missing:
            if expert_file(source, i).is_file():
                folder.mkdir(parents=True, exist_ok=True)
                write_with(expert_file(folder, i), lambda f, s=expert_file(source, i): f.write(s.read_bytes()))
                for key in ("seconds", "sampler"):
                    if str(i) in theirs.get(key, {}):
                        old[key][str(i)] = theirs[key][str(i)]
    return old


def _built(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The manifest of the buffer already in ``folder`` ({} when none), refused when another config built it."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    built = comparable(old["config"], config)
    if config_hash(built) != config_hash(config):
        raise CheckpointError(f"expert buffer {str(folder)!r} was built with another config (keys "
                              f"{', '.join(differing_keys(built, config))} differ): use another folder or the "
                              "same settings")
    return old


def _train_expert(x, y, num_classes, model, model_options, epochs, lr, batch_size, sampler: BatchSampler,
                  dsa_strategy, seed, device, bar, dataset_id=None, partial: Path | None = None,
                  partial_config: dict[str, Any] | None = None) -> tuple[torch.Tensor, float]:
    """One expert's trajectory and its training seconds (summed over resumes); checkpointed into ``partial`` after
    every epoch, and resumed from there when it holds this expert's (``partial_config``) state."""
    t0 = time.perf_counter()
    net = create_model(model, x.shape[1], num_classes, tuple(x.shape[2:]), seed=seed, **model_options).to(device)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.0, weight_decay=0.0)
    generator = torch_generator(seed)
    rng = np.random.default_rng(seed)
    sampler.setup(y.numpy(), num_classes, seed=seed)
    # the labels and the data's identity too: a teacher predictor trains on them (and is cached by them)
    scoring = ScoringContext(x, num_classes, device, model, model_options, predictor=_CurrentNet(net),
                             real_labels=y, data_id=dataset_id)
    sampler.prepare(scoring)
    augment = DSA(strategy=dsa_strategy) if dsa_strategy else None
    per_class = max(1, batch_size // num_classes)
    steps = max(1, len(x) // batch_size)
    state = load_checkpoint(partial, partial_config) if partial is not None and partial.is_dir() else None
    if state is None:
        snapshots, start, before = [_flat(net)], 0, 0.0
    else:
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["optimizer"])
        sampler.load_state_dict(state["sampler"])
        rng.bit_generator.state = state["numpy_rng"]
        generator.set_state(state["torch_generator"])
        snapshots, start, before = list(state["snapshots"]), int(state["iteration"]), float(state["seconds"])
        warn_on_resume(state, f"expert {partial_config.get('expert')}", step="epoch")
        bar.update(start)
    for epoch in range(start, epochs):
        sampler.update(iteration=epoch, total=epochs, images=x[:1], labels=y[:1], scoring=scoring)
        for _ in range(steps):
            batches = [_real_batch(x, sampler, c, per_class, rng, device) for c in range(num_classes)]
            xb = torch.cat([b for b, _ in batches])
            yb = torch.cat([torch.full((len(b),), c, dtype=torch.long, device=device)
                            for c, (b, _) in enumerate(batches)])
            wb = None if batches[0][1] is None else torch.cat([w for _, w in batches])
            if augment is not None:
                xb = augment(xb, generator=generator, siamese=False)
            losses = F.cross_entropy(net(xb), yb, reduction="none")
            loss = losses.mean() if wb is None else (wb * losses).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        snapshots.append(_flat(net))
        bar.update(1)
        if partial is not None and epoch + 1 < epochs:
            partial.mkdir(parents=True, exist_ok=True)
            save_checkpoint(partial, {
                "config": partial_config, "iteration": epoch + 1, "snapshots": torch.stack(snapshots),
                "net": net.state_dict(), "optimizer": opt.state_dict(), "sampler": sampler.state_dict(),
                "numpy_rng": rng.bit_generator.state, "torch_generator": generator.get_state(),
                "seconds": before + time.perf_counter() - t0, "threads": torch.get_num_threads()})
    return torch.stack(snapshots), before + time.perf_counter() - t0


def _real_batch(x, sampler: BatchSampler, class_index: int, size: int, rng, device):
    idx, weights = sampler.sample(class_index, size, rng)
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=device)
    return x[torch.from_numpy(np.asarray(idx))].to(device), w


class ExpertBuffer:
    """A built buffer: its manifest, and trajectories loaded on first use."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        path = self.folder / MANIFEST
        if not path.exists():
            raise invalid("experts", str(folder), "a folder made by `coredistill experts` (no manifest.json there)")
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise CheckpointError(f"expert buffer {str(folder)!r}: manifest.json cannot be read ({e})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            found = self.manifest.get("format") if isinstance(self.manifest, dict) else type(self.manifest).__name__
            raise CheckpointError(f"expert buffer {str(folder)!r} has format {found!r}, expected {FORMAT}")
        missing = [k for k in ("experts", "config") if k not in self.manifest]
        if missing or not isinstance(self.manifest["config"], dict) or "epochs" not in self.manifest["config"]:
            raise CheckpointError(f"expert buffer {str(folder)!r}: manifest.json lacks "
                                  f"{', '.join(missing) or 'config.epochs'}: expected a buffer made by "
                                  "`coredistill experts`")
        if not self.manifest["experts"]:
            raise invalid("experts", str(folder), "a buffer with at least one finished expert")
        self._cache: dict[int, torch.Tensor] = {}

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    def __len__(self) -> int:
        return len(self.manifest["experts"])

    @property
    def epochs(self) -> int:
        return int(self.config["epochs"])

    def trajectory(self, index: int) -> torch.Tensor:
        if index not in self._cache:
            file = self.folder / self.manifest["experts"][index]
            try:
                t = load_plain(file)
            except Exception as e:  # noqa: BLE001 — missing, truncated or foreign: one clear error
                raise CheckpointError(f"expert file {file.name!r} in {str(self.folder)!r} cannot be read "
                                      f"({why_unreadable(e)})") from None
            if not isinstance(t, torch.Tensor) or t.ndim != 2 or t.shape[0] != self.epochs + 1 or not torch.isfinite(t).all():
                raise CheckpointError(f"expert file {self.manifest['experts'][index]!r} in {str(self.folder)!r} is "
                                      f"corrupt: expected a finite ({self.epochs + 1}, P) tensor")
            self._cache[index] = t
        return self._cache[index]
