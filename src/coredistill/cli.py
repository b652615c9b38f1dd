"""``coredistill`` command line. Thin: every choice comes from a registry; the work is in the library."""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__
from .config import INIT_FILTERS
from .presets import DEFAULT_NUM_EXPERTS
from .errors import CoredistillError, invalid

if TYPE_CHECKING:
    from .evaluate import EvalResult


def _options(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as Python literals when they are one (``k=3``, ``mode="iid"``)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise invalid(flag, pair, "key=value")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def _load_data(name: str, path: str | None, options: dict[str, Any]):
    from .data import load_dataset

    return load_dataset(name, path=path, **options)


# --- commands ----------------------------------------------------------------------------------------------
def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import SOURCES
    from .table import format_table

    rows = []
    for name, src in SOURCES.items():
        state = "needs --path" if src.needs_path else ("available" if src.available() else "missing")
        rows.append([name, state, src.description, "" if state == "available" else src.how_to_get])
    print(format_table(["dataset", "here", "what", "how to get it"], rows))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .models import MODELS
    from .table import format_table

    print(format_table(["model", "description"], [[n, s.description] for n, s in MODELS.items()]))
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    from .table import format_table
    from .variants import SEED_SAMPLER, VARIANTS

    def init(v) -> str:
        if isinstance(v.init, str):
            return v.init
        others: dict[str, list[str]] = {}
        for method, name in v.init.items():
            if method != "default":
                others.setdefault(name, []).append(method)
        return v.init["default"] + "".join(f" ({n} for {', '.join(ms)})" for n, ms in others.items())

    rows = [[name, init(v) + (f" ({v.features} features)" if v.features else ""), v.sampler or SEED_SAMPLER,
             f"{v.prune:g}" if v.prune else "-", v.description] for name, v in VARIANTS.items()]
    print(format_table(["variant", "initial images", "real batches", "prune", "what"], rows))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from .data.fetch import FETCHERS

    for name in args.names:
        FETCHERS.get(name)()
    return 0


def cmd_distill(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from .distributed import init_from_env, is_main_process
    from .outputs import check_out, hold

    init_from_env()  # under torchrun: join the process group (classes and eval nets are split across processes)
    out = check_out(args.out, overwrite=args.overwrite)  # before any work: exists? a user's folder? writable?
    ckpt = out.with_name(out.name + ".ckpt")  # beside the artifact, which only appears when the run is done
    # one writer per output (under torchrun the processes of one run share it: the main one holds the lock)
    with hold(out) if is_main_process() else nullcontext():
        return _distill_into(args, out, ckpt)


def _distill_into(args: argparse.Namespace, out: Path, ckpt: Path) -> int:
    from .distributed import is_main_process
    from .pipeline import distill

    resume = getattr(args, "resume", False)
    if resume and not any(ckpt.glob("*checkpoint*.pt")):  # killed before its first checkpoint: nothing to resume
        print(f"coredistill distill: no checkpoint in {ckpt} yet: starting afresh", file=sys.stderr)
    data_options = _options(args.data_opt, "--data-opt")
    method_options = _options(getattr(args, "method_opt", None), "--method-opt")
    if getattr(args, "experts", None):
        method_options["experts"] = args.experts
    ds = _load_data(args.dataset, args.path, data_options)
    result = distill(ds, ipc=args.ipc, method=getattr(args, "method", "none"),
                     variant=getattr(args, "variant", None), init=args.init, preset=args.preset, seed=args.seed,
                     zca_eps=args.zca, method_options=method_options,
                     init_options=_options(args.init_opt, "--init-opt"), features=args.features,
                     feature_options=_options(args.feature_opt, "--feature-opt"),
                     sampler=getattr(args, "sampler", None),
                     sampler_options=_options(getattr(args, "sampler_opt", None), "--sampler-opt"),
                     iterations=getattr(args, "iterations", None), eval_every=getattr(args, "eval_every", 0),
                     curve_nets=getattr(args, "curve_nets", None),
                     checkpoint_dir=ckpt if getattr(args, "checkpoint_every", 0) or resume else None,
                     checkpoint_every=getattr(args, "checkpoint_every", 0), resume=resume,
                     evaluate_with=() if args.no_eval else args.eval_models, device=args.device,
                     dataset_options={"path": args.path, **data_options},
                     num_experts=getattr(args, "num_experts", None),
                     experts_dir=getattr(args, "experts_dir", None), prune=getattr(args, "prune", None),
                     prune_options=_options(getattr(args, "prune_opt", None), "--prune-opt"),
                     init_filter=args.init_filter,
                     init_filter_options=_options(args.init_filter_opt, "--init-filter-opt"),
                     progress=not args.quiet and is_main_process())
    if not is_main_process():  # every process holds the same result; one writes it
        return 0
    result.save(out, overwrite=args.overwrite)
    if ckpt.is_dir():  # the artifact now holds the result
        import shutil

        shutil.rmtree(ckpt, ignore_errors=True)
    _print_metrics(result.record.metrics)
    print(f"saved {out}")
    if getattr(args, "plots", None):
        _write_score_plots(result, ds, Path(args.plots))
        _write_sampler_plots(result, ds, Path(args.plots))
    return 0


def cmd_experts(args: argparse.Namespace) -> int:
    from .pipeline import train_experts

    data_options = _options(args.data_opt, "--data-opt")
    ds = _load_data(args.dataset, args.path, data_options)
    folder = train_experts(ds, args.out, num_experts=args.num_experts, epochs=args.epochs, preset=args.preset,
                           zca_eps=args.zca, sampler=args.sampler,
                           sampler_options=_options(args.sampler_opt, "--sampler-opt"), seed=args.seed,
                           device=args.device, progress=not args.quiet)
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    print(f"{len(manifest['experts'])} experts of {manifest['config']['epochs']} epochs in {folder} "
          f"(use: coredistill distill --method mtt --experts {folder} ...)")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import Grid, read_results, run_grid, write_report

    path = Path(args.grid)
    if not path.suffix and not path.exists():
        path = Path("benchmarks/grids") / f"{args.grid}.yaml"
    grid = Grid.load(path)
    out = Path(args.out or Path("benchmarks/results") / grid.name)
    only: dict[str, set[str]] = {}
    for pair in args.only or []:
        key, sep, value = pair.partition("=")
        if not sep or key not in ("method", "dataset", "ipc", "variant", "seed"):
            raise invalid("--only", pair, "KEY=VALUE with KEY one of method, dataset, ipc, variant, seed")
        only.setdefault(key, set()).add(value)
    if args.status:  # reads only: a running grid's folder is safe to look at
        from .bench.runner import progress, reuse_results

        done = read_results(out)
        if args.reuse:
            done.update({r["hash"]: r for r in reuse_results([c for c in grid.cells() if c.hash not in done], out,
                                                             args.reuse, write=False)})
        hashes = {c.hash for c in grid.cells()}
        print(f"grid {grid.name}: {len(hashes & set(done))} of {len(hashes)} cells finished in {out}")
        print("\n".join(progress(grid, out, done)))
        return 0
    if args.report_only:
        done = read_results(out)
        if args.reuse:  # copying finished cells runs nothing
            from .bench.runner import reuse_results
            from .folder_lock import holder

            out.mkdir(parents=True, exist_ok=True)
            writer = holder(out)  # a running grid's results are its own to write: report the copies, keep them out
            copied = reuse_results([c for c in grid.cells() if c.hash not in done], out, args.reuse,
                                   write=writer is None, sets=grid.keep_sets)
            for rec in copied:
                done[rec["hash"]] = rec
            if writer and copied:
                print(f"{len(copied)} cell(s) other grids finished are in this report, not copied into {out}: "
                      f"{writer} is writing it", file=sys.stderr)
    else:
        done = run_grid(grid, out, jobs=args.jobs, threads=args.threads, only=only, reuse=args.reuse or (),
                        on_record=lambda _: write_report(grid, read_results(out), out, plots=False))
    files = write_report(grid, done, out)
    print((out / "results.md").read_text())
    print(f"wrote {', '.join(str(f) for f in files.values())}")
    if args.report_only:  # what a stopped or running grid has not finished yet
        from .bench.runner import progress

        print("\n".join(progress(grid, out, done)))
    return 0


def _write_sampler_plots(result, ds, folder: Path) -> None:
    from .plots import important_real_grid, sampler_diagnostics

    refreshes, name = result.record.refreshes, result.record.sampler
    if not refreshes:
        return
    folder.mkdir(parents=True, exist_ok=True)
    print(f"wrote {sampler_diagnostics(refreshes, folder / 'sampler.png', title=f'{name} on {ds.name}')}")
    print(f"wrote {important_real_grid(ds.train_float(), refreshes[-1], folder / 'important_real.png', ds.class_names)} "
          f"(per class: the real images most likely to be drawn after the refresh at iteration "
          f"{refreshes[-1]['iteration']})")


def _write_score_plots(result, ds, folder: Path) -> None:
    from .plots import importance_grid, score_histogram

    if result.init_scores is None:
        if result.manifest["initializer"]["name"] != "random":
            print(f"no score plots: initializer {result.manifest['initializer']['name']!r} has no scores")
        return
    folder.mkdir(parents=True, exist_ok=True)
    scores, labels = result.init_scores.numpy(), ds.y_train.numpy()
    name = result.manifest["initializer"]["name"]
    print(f"wrote {score_histogram(scores, labels, folder / 'scores.png', title=f'{name} on {ds.name}')}")
    print(f"wrote {importance_grid(ds.train_float(), scores, labels, folder / 'importance.png', class_names=ds.class_names)} "
          "(per class: most important | least important)")


def cmd_difficulty(args: argparse.Namespace) -> int:
    """Every train image's difficulty by a teacher (cached), per-class statistics, and the scores' plots."""
    import numpy as np

    from .atomic import write_text, write_with
    from .device import resolve_device
    from .pipeline import prepare
    from .plots import importance_grid, score_histogram
    from .presets import get_preset
    from .pruning import teacher_scores
    from .table import format_table

    ds = _load_data(args.dataset, args.path, _options(args.data_opt, "--data-opt"))
    options = {**_options(args.teacher_opt, "--teacher-opt"), "score": args.score}
    data = prepare(ds, args.zca)
    scores, predicted, teacher = teacher_scores(data.train_x, ds.y_train, ds.num_classes,
                                                get_preset(args.preset or "cpu"), data.identity,
                                                resolve_device(args.device), options)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    labels = ds.y_train.numpy()
    write_with(out / "scores.npy", lambda f: np.save(f, scores))
    write_with(out / "predicted.npy", lambda f: np.save(f, predicted))
    rows = []
    for c in range(ds.num_classes):
        s = scores[labels == c]
        rows.append([ds.class_names[c] if ds.class_names else c, len(s), f"{s.mean():.4f}", f"{np.median(s):.4f}",
                     f"{s.max(initial=0.0):.4f}", f"{100 * np.mean(predicted[labels == c] != c):.2f}"])
    table = format_table(["class", "images", f"mean {args.score}", "median", "max", "teacher wrong %"], rows)
    write_text(out / "summary.md", f"{ds.name} train split, teacher {teacher.options()}, score {args.score}\n\n"
                                   f"{table}\n")
    print(table)
    title = f"teacher {args.score} on {ds.name}"
    print(f"wrote {score_histogram(scores, labels, out / 'scores.png', title=title)}")
    print(f"wrote {importance_grid(ds.train_float(), scores, labels, out / 'hardest.png', class_names=ds.class_names)}"
          " (per class: hardest | easiest)")
    print(f"wrote {out / 'scores.npy'} (one score per train image, in the train split's order)")
    return 0


def _print_metrics(metrics: dict[str, EvalResult]) -> None:
    from .table import format_table, pct

    if metrics:
        print(format_table(["eval model", "accuracy %", "nets", "epochs", "dsa", "preset"],
                           [[m, pct(r.mean, r.std), len(r.accuracies), r.epochs, r.dsa, r.preset]
                            for m, r in metrics.items()]))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .artifacts import DistilledSet
    from .pipeline import evaluate_artifact

    artifact = DistilledSet.load(args.artifact)
    m = artifact.manifest
    name = (m.get("dataset") or {}).get("name") if isinstance(m.get("dataset"), dict) else None
    if not isinstance(name, str):
        raise invalid("artifact", args.artifact, "a manifest that names its data set (dataset.name), to evaluate on "
                      "that data set's test split")
    options = dict(m.get("dataset_options") or {})
    path = args.path or options.pop("path", None)
    options.pop("path", None)
    ds = _load_data(name, path, options)
    if args.protocol == "rfad-finite":
        from .pipeline import evaluate_artifact_centered

        centered = evaluate_artifact_centered(artifact, ds, width=args.width, val_per_class=args.val_per_class,
                                              seed=args.seed, nets=args.nets or 1, max_steps=args.max_steps,
                                              lr=args.lr, weight_decay=args.weight_decay,
                                              label_scale=args.label_scale, device=args.device,
                                              progress=not args.quiet)
        print(centered)
        if args.json:
            Path(args.json).write_text(json.dumps(centered.to_dict(), indent=2))
        return 0
    overrides = {k: v for k, v in (("nets", args.nets), ("epochs", args.epochs), ("dsa", args.dsa),
                                   ("device", args.device)) if v is not None}
    results = evaluate_artifact(artifact, ds, models=args.models, preset=args.preset, seed=args.seed,
                                progress=not args.quiet, **overrides)
    _print_metrics(results)
    if args.json:
        Path(args.json).write_text(json.dumps({k: r.to_dict() for k, r in results.items()}, indent=2))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .artifacts import PREVIEW, DistilledSet

    artifact = DistilledSet.load(args.artifact)
    m = artifact.manifest
    init = m.get("initializer", {})
    print(f"artifact   {args.artifact}  (format {m['format_version']}, coredistill {m.get('package_version')})")
    print(f"dataset    {m.get('dataset', {}).get('name')}  ipc {m.get('ipc')}  images {tuple(artifact.images.shape)}")
    variant = (m.get("run") or {}).get("variant")
    print(f"method     {m.get('method', {}).get('name')}  init {init.get('name')}  preset "
          f"{m.get('preset', {}).get('name')}  seed {m.get('seed')}" + (f"  variant {variant}" if variant else ""))
    source = m.get("source")
    if isinstance(source, dict):  # a released set (coredistill import)
        norm = m.get("normalization") or {}
        print(f"source     {source.get('layout')} layout  {source.get('path')}  labels {source.get('labels')}  "
              f"stated space: mean {norm.get('mean')} std {norm.get('std')} zca {norm.get('zca_eps')}")
    if init.get("indices") is not None:
        shown = init["indices"][:10]
        print(f"init idx   {shown}{' …' if len(init['indices']) > 10 else ''}")
    record = artifact.record
    _print_metrics(record.metrics)
    timings = m.get("timings", {})
    if timings:
        print("timings    " + "  ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    refreshes = record.refreshes
    if refreshes:
        from .plots import sampler_diagnostics

        last = refreshes[-1]["classes"]
        print(f"sampler    {record.sampler}  {len(refreshes)} refreshes, scoring "
              f"{record.sampler_seconds:.1f} s = {100 * record.sampler_share:.1f} % of distillation; "
              f"last refresh: entropy/log(pool) {sum(c['entropy'] / c['max_entropy'] for c in last) / len(last):.3f}, "
              f"90 % of p on {100 * sum(c['mass90_fraction'] for c in last) / len(last):.0f} % of the pool")
        if args.sampler_plot:  # show reads an artifact; it writes only where asked
            plot = sampler_diagnostics(refreshes, Path(args.sampler_plot), title=f"{record.sampler} on "
                                       f"{(m.get('dataset') or {}).get('name')}")
            print(f"           diagnostics plot {plot}")
    if args.preview:
        print(f"preview    {artifact.write_preview(Path(args.preview))}")
    elif (Path(args.artifact) / PREVIEW).exists():
        print(f"preview    {Path(args.artifact) / PREVIEW}")
    if args.manifest:
        print(json.dumps(m, indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .artifacts import DistilledSet

    artifact = DistilledSet.load(args.artifact)
    files = artifact.export(args.out, args.layout, overwrite=args.overwrite, allow_loss=args.allow_loss)
    m = artifact.manifest
    norm = m.get("normalization") or {}
    back = [f"coredistill import {args.out} --layout {args.layout} --dataset {m.get('dataset', {}).get('name')}"]
    for key, value in (m.get("dataset_options") or {}).items():  # the loader options the run recorded
        if value is not None:
            back.append(f"--path {value}" if key == "path" else f"--data-opt {key}={value}")
    if norm.get("mean") is not None:  # the space as stated in the manifest, so nothing has to be guessed
        back.append(f"--normalization 'mean={norm['mean']};std={norm['std']}'")
    if artifact.zca is not None:
        back.append(f"--zca {artifact.zca.eps}" + (" --zca-relative" if artifact.zca.relative else ""))
    print(f"wrote {', '.join(map(str, files))} ({args.layout} layout, images as trained); read it back with: "
          f"{' '.join(back)} --out DIR")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .released import load_released

    data_options = _options(args.data_opt, "--data-opt")
    ds = _load_data(args.dataset, args.path, data_options)
    normalization: Any = args.normalization  # a name, or explicit per-channel values: mean=[..];std=[..]
    if "=" in normalization:
        normalization = _options(normalization.split(";"), "--normalization")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        artifact = load_released(args.source, ds, layout=args.layout, normalization=normalization,
                                 zca_eps=args.zca, zca_relative=args.zca_relative, labels=args.labels,
                                 eval_dsa=args.eval_dsa, dataset_options={"path": args.path, **data_options},
                                 **_options(args.layout_opt, "--layout-opt"))
    for w in caught:
        print(f"coredistill import: warning: {w.message}", file=sys.stderr)
    artifact.save(args.out, overwrite=args.overwrite)
    m = artifact.manifest
    print(f"read {len(artifact.images)} images ({m['source']['layout']} layout, labels {m['source']['labels']}, "
          f"ipc {m['ipc']}, learned lr {artifact.learned_lr}) into {args.out}; score it with: "
          f"coredistill evaluate {args.out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .published import published, published_ipcs
    from .reproduce import HEADERS, default_out, reproduce
    from .table import format_table

    if published(args.method, args.dataset, args.ipc) is None:  # said before a run of hours, not after it
        ipcs = published_ipcs(args.method, args.dataset)
        recorded = f"IPC {', '.join(map(str, ipcs))} only" if ipcs else "none for this method and data set"
        print(f"coredistill reproduce: note: no published number is recorded for {args.method} on {args.dataset} "
              f"at IPC {args.ipc} ({recorded}); the run prints ours without a gap", file=sys.stderr)
    data_options = _options(args.data_opt, "--data-opt")
    ds = _load_data(args.dataset, args.path, data_options)
    artifact, comparison = reproduce(args.method, ds, args.ipc, preset=args.preset, seed=args.seed, out=args.out,
                                     eval_every=args.eval_every, num_experts=args.num_experts,
                                     curve_nets=args.curve_nets,
                                     dataset_options={"path": args.path, **data_options}, progress=not args.quiet)
    print(format_table(HEADERS, [comparison.row()]))
    citation = artifact.manifest["preset"].get("citations", {}).get(artifact.manifest["method"]["name"])
    if citation:
        print(f"settings: {citation}")
    pub = comparison.published
    if pub is not None and pub.evaluation:
        out = args.out or default_out(args.method, args.dataset, args.ipc, comparison.preset, args.seed)
        how = f"; score this set under it: coredistill evaluate {out} --protocol {pub.protocol}" if pub.protocol else ""
        print(f"note: ours is under the preset's protocol; the published number is {pub.evaluation}{how}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.dataset, path=args.path, ipcs=args.ipc, preset=args.preset, seed=args.seed, methods=args.methods,
             out_dir=Path(args.out_dir), full_data=not args.no_full, progress=not args.quiet)
    return 0


# --- parser ------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from .data import list_datasets
    from .data.fetch import FETCHERS
    from .methods import list_methods
    from .features import list_features
    from .models import list_models
    from .presets import PRESETS
    from .released import LABEL_MODES, list_layouts, writable_layouts
    from .sampling import LOSSES, list_samplers, sampler_names
    from .select import list_initializers
    from .variants import list_variants

    parser = argparse.ArgumentParser(prog="coredistill", description=__doc__)
    parser.add_argument("--version", action="version", version=f"coredistill {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("datasets", help="list data sets, whether they are here, how to get them").set_defaults(
        func=cmd_datasets)
    sub.add_parser("models", help="list the model zoo").set_defaults(func=cmd_models)
    sub.add_parser("variants", help="list the named recipes for initial images and real batches (distill "
                   "--variant, a grid's variants)").set_defaults(func=cmd_variants)
    p = sub.add_parser("fetch", help="put an offline data set in place (mnist, fashion-mnist)")
    p.add_argument("names", nargs="+", choices=FETCHERS.names())
    p.set_defaults(func=cmd_fetch)

    def data_args(p: argparse.ArgumentParser, default: str | None = "digits") -> None:
        p.add_argument("--dataset", default=default, required=default is None, choices=list_datasets())
        p.add_argument("--path", help="where the data set's files are (for user-supplied data sets)")
        p.add_argument("--data-opt", action="append", metavar="KEY=VALUE", help="loader option, repeatable")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--preset", default=None, choices=PRESETS.names())
        p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    def run_args(p: argparse.ArgumentParser, init_default: str | None, init_help: str | None = None) -> None:
        data_args(p)
        p.add_argument("--ipc", type=int, required=True, help="images per class")
        p.add_argument("--init", default=init_default, choices=list_initializers(), help=init_help)
        p.add_argument("--init-opt", action="append", metavar="KEY=VALUE", help="initializer option, repeatable")
        p.add_argument("--init-filter", choices=INIT_FILTERS,
                       help="choose the initial images only among those a teacher (a net trained on the train "
                            "split, cached) classifies correctly")
        p.add_argument("--init-filter-opt", action="append", metavar="KEY=VALUE", help="teacher option, e.g. epochs=10")
        p.add_argument("--features", choices=list_features(),
                       help="selection feature space (default: the initializer's)")
        p.add_argument("--feature-opt", action="append", metavar="KEY=VALUE")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--zca", type=float, nargs="?", const=0.1, default=None, metavar="EPS",
                       help="ZCA-whiten (eps 0.1 unless given)")
        p.add_argument("--eval-models", nargs="+", choices=list_models(), help="eval architectures (default: preset's)")
        p.add_argument("--no-eval", action="store_true")
        p.add_argument("--out", required=True)
        p.add_argument("--overwrite", action="store_true")
        common(p)

    p = sub.add_parser("distill", help="distill a data set to IPC images per class and save the artifact")
    run_args(p, None, "initial images (default: random, or the variant's)")
    p.add_argument("--method", default="none", choices=list_methods())
    p.add_argument("--variant", choices=list_variants(),
                   help="a named recipe for the initial images and real batches (`coredistill variants`), e.g. "
                        "aligned-both; an --init / --sampler / --features / --prune / --init-filter also given must "
                        "agree with it, options merge over its own")
    p.add_argument("--method-opt", action="append", metavar="KEY=VALUE", help="method option, e.g. lr_images=0.5")
    p.add_argument("--sampler", choices=sampler_names(), help="real batches (default: uniform, or the variant's)")
    p.add_argument("--sampler-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--iterations", type=int, help="distillation iterations (default: the preset's for the method)")
    p.add_argument("--prune", type=float, metavar="FRACTION",
                   help="remove the hardest FRACTION of each class by a teacher's loss before distilling (default: "
                        "none, or the variant's)")
    p.add_argument("--prune-opt", action="append", metavar="KEY=VALUE", help="teacher option, e.g. epochs=10")
    p.add_argument("--eval-every", type=int, default=0, metavar="N", help="evaluate every N iterations (curve.png)")
    p.add_argument("--curve-nets", type=int, metavar="K",
                   help="eval nets at each curve point (default: the preset's, as the final evaluation)")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="checkpoint every N iterations into OUT.ckpt/ (atomic; resumable)")
    p.add_argument("--resume", action="store_true", help="continue the run whose checkpoints are in OUT.ckpt/")
    p.add_argument("--plots", metavar="DIR", help="also write the initializer's score plots and the importance "
                   "sampler's diagnostics (sampler.png) and most important real images (important_real.png)")
    p.add_argument("--experts", metavar="DIR", help="expert buffer for --method mtt (from `coredistill experts`; "
                   "default: built with --sampler under --experts-dir once, then reused)")
    p.add_argument("--num-experts", type=int, help="experts to build when no --experts is given (default: the "
                   f"preset's, else {DEFAULT_NUM_EXPERTS})")
    p.add_argument("--experts-dir", metavar="DIR", help="where built expert buffers are kept (default: the data "
                   "folder's experts/)")
    p.set_defaults(func=cmd_distill)

    p = sub.add_parser("experts", help="train MTT expert trajectories (resumable: one file per expert, a "
                                       "checkpoint per epoch)")
    data_args(p)
    p.add_argument("--num-experts", type=int,
                   help=f"experts to train (default: the preset's, else {DEFAULT_NUM_EXPERTS})")
    p.add_argument("--epochs", type=int, help="epochs per expert (default: the preset's)")
    p.add_argument("--sampler", default="uniform", choices=list_samplers(),
                   help="real batches of expert training (relative-loss: the coreset paper's phase 2 for MTT)")
    p.add_argument("--sampler-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--zca", type=float, nargs="?", const=0.1, default=None, metavar="EPS")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="buffer folder (an unfinished build there is resumed)")
    common(p)
    p.set_defaults(func=cmd_experts)

    p = sub.add_parser("bench", help="run a benchmark grid (baseline / +init / +sampling / +both), resumable")
    p.add_argument("--grid", required=True, help="grid YAML file, or the name of one in benchmarks/grids/")
    p.add_argument("--out", help="results folder (default benchmarks/results/GRID_NAME)")
    p.add_argument("--jobs", type=int, default=1,
                   help="cells side by side, each in a fresh process with cores/jobs threads (0: in this process)")
    p.add_argument("--threads", type=int, help="torch threads per cell (default: cores / jobs)")
    p.add_argument("--only", action="append", metavar="KEY=VALUE",
                   help="run only matching cells (method, dataset, ipc, variant, seed); repeatable")
    p.add_argument("--reuse", action="append", metavar="DIR",
                   help="copy this grid's cells (same hash) finished in results folders under DIR instead of "
                        "running them, e.g. --reuse benchmarks/results; repeatable")
    look = p.add_mutually_exclusive_group()
    look.add_argument("--report-only", action="store_true",
                      help="write the report of what --out holds (with the cells --reuse copies); run nothing")
    look.add_argument("--status", action="store_true",
                      help="print how far the grid is (cells finished; the run writing --out; each checkpointed "
                           "cell's iteration, curve and evaluation under way; part-built expert buffers; cells "
                           "without a checkpoint); write nothing, run nothing")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("select", help="choose IPC real images per class (no learning) and save them as an artifact")
    run_args(p, "kmeans-sensitivity")
    p.add_argument("--plots", metavar="DIR", help="also write a score histogram and the most/least important images")
    p.set_defaults(func=cmd_distill)

    p = sub.add_parser("difficulty", help="score every train image by a teacher (a net trained on the train split, "
                       "cached): per-class statistics, plots, scores.npy")
    data_args(p)
    p.add_argument("--score", default="cross-entropy", choices=list(LOSSES),
                   help="per-example score of the teacher's logits (el2n with a few epochs: EL2N at an early epoch)")
    p.add_argument("--teacher-opt", action="append", metavar="KEY=VALUE", help="teacher option, e.g. epochs=2")
    p.add_argument("--zca", type=float, nargs="?", const=0.1, default=None, metavar="EPS",
                   help="score ZCA-whitened images (as a run with --zca sees them)")
    p.add_argument("--out", required=True, help="folder for scores.npy, predicted.npy, summary.md and the plots")
    common(p)
    p.set_defaults(func=cmd_difficulty)

    from .centered_eval import RFAD_VALIDATION_PER_CLASS, RFAD_WIDTH

    p = sub.add_parser("evaluate", help="train fresh nets on a saved set and test them")
    p.add_argument("artifact")
    p.add_argument("--models", nargs="+", choices=list_models())
    p.add_argument("--path", help="data set location, if not where the artifact was made")
    p.add_argument("--nets", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--dsa", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--seed", type=int, help="the eval nets' seed itself (default: the one the artifact's run "
                   "recorded, so a re-evaluation repeats its manifest's numbers; 0 for an imported set)")
    p.add_argument("--protocol", choices=["field", "rfad-finite"], default="field",
                   help="field: the DC protocol of the preset (default); rfad-finite: RFAD's own finite-network "
                        "evaluation (centred MSE, full batch, best step on train images) with its published "
                        "settings for the set's data set and IPC")
    p.add_argument("--width", type=int, default=RFAD_WIDTH,
                   help=f"rfad-finite: the ConvNet's width (RFAD's: {RFAD_WIDTH})")
    p.add_argument("--val-per-class", type=int, default=RFAD_VALIDATION_PER_CLASS,
                   help=f"rfad-finite: train images per class that choose the best step (RFAD's: "
                        f"{RFAD_VALIDATION_PER_CLASS})")
    p.add_argument("--max-steps", type=int, default=20_000, help="rfad-finite: at most this many steps")
    for flag, what in (("--lr", "SGD's step"), ("--weight-decay", "pull towards the initial weights"),
                       ("--label-scale", "target scale")):
        p.add_argument(flag, type=float, help=f"rfad-finite: the {what} (default: RFAD's for the set's data set and "
                       "IPC; all three for one RFAD did not publish)")
    p.add_argument("--json", help="also write the results to this JSON file")
    common(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("show", help="print an artifact's manifest summary (it writes nothing unless asked)")
    p.add_argument("artifact")
    p.add_argument("--preview", help="write the preview PNG here")
    p.add_argument("--manifest", action="store_true", help="print the whole manifest as JSON")
    p.add_argument("--sampler-plot", help="write the importance sampler's diagnostics here")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write an artifact in a layout of the field's code (DC/DSA/DM .pt, MTT/DATM "
                       "folder, RFAD/KIP .npz), for their evaluation scripts; `import` reads it back")
    p.add_argument("artifact")
    p.add_argument("--out", required=True)
    p.add_argument("--layout", default="dc", choices=writable_layouts())
    p.add_argument("--allow-loss", action="store_true",
                   help="write the set even where the layout has no place for its soft labels, learned targets "
                        "or learned lr, without them (refused otherwise)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="read a set released by the field's code (DC/DSA/DM .pt, MTT/DATM folder, "
                       "RFAD/KIP .npz) into an artifact that `evaluate` scores")
    p.add_argument("source", help="the released file or folder")
    data_args(p, default=None)
    p.add_argument("--layout", default="auto", choices=["auto", *list_layouts()])
    p.add_argument("--layout-opt", action="append", metavar="KEY=VALUE",
                   help="layout option, repeatable: experiment=N (dc), iteration=N|best (mtt), images_key=, "
                        "labels_key= (npz)")
    p.add_argument("--normalization", default="dataset", metavar="dataset|none|mean=[..];std=[..]",
                   help="the space the images are in before ZCA: the data set's mean/std (default), pixels in "
                        "[0, 1], or explicit per-channel values")
    p.add_argument("--zca", type=float, nargs="?", const=0.1, default=None, metavar="EPS",
                   help="the images are ZCA-whitened (eps 0.1 unless given), fitted on the train split")
    p.add_argument("--zca-relative", action="store_true", help="KIP/RFAD's ZCA: uncentred, eps x mean eigenvalue")
    p.add_argument("--labels", default="auto", choices=LABEL_MODES)
    p.add_argument("--eval-dsa", action=argparse.BooleanOptionalAction, default=True,
                   help="evaluate with DSA where the preset does (the papers do for DSA, DM, MTT sets)")
    p.add_argument("--out", required=True)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_import)

    from .reproduce import BASELINES, CURVE_NETS

    p = sub.add_parser("reproduce", help="run a method (or a coreset baseline) at its published "
                       "configuration and print ours vs published; resumable")
    p.add_argument("--method", required=True, choices=[*(m for m in list_methods() if m != "none"), *BASELINES])
    data_args(p, default=None)
    p.add_argument("--ipc", type=int, required=True)
    p.add_argument("--preset", default="reproduce", choices=PRESETS.names(),
                   help="reproduce (CPU budgets, default) or paper (the papers' budgets, for a GPU)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, metavar="N", help="curve points (default: a quarter of the run)")
    p.add_argument("--curve-nets", type=int, default=CURVE_NETS, metavar="K",
                   help=f"eval nets at each curve point (default {CURVE_NETS}; the final evaluation: the preset's)")
    p.add_argument("--num-experts", type=int, help="MTT experts to build (default: the preset's)")
    p.add_argument("--out", help="artifact folder (default reproduce/PRESET/METHOD-DATASET-ipcN-seedS); a "
                   "finished one is read, a stopped one continues from OUT.ckpt")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("demo", help="the main job: baselines on the default data set, printed as a table")
    data_args(p)
    p.add_argument("--ipc", type=int, nargs="+", default=[1, 10])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", nargs="+", default=["dm"], choices=list_methods(),
                   help="methods whose baseline / +init / +sampling / +both rows to run (default dm; mtt trains "
                   "its expert buffers under --out-dir first)")
    p.add_argument("--out-dir", default="demo-output")
    p.add_argument("--no-full", action="store_true", help="skip the full-data reference row")
    common(p)
    p.set_defaults(func=cmd_demo)
    return parser


def _unrecognized(extra: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """argparse's message for arguments no option takes, with the nearest option named for a misspelt one."""
    import difflib

    options = [o for action in parser._actions for o in action.option_strings]
    flags = [token.split("=")[0] for token in extra if token.startswith("--")]
    hints = [f"{close[0]} for {flag}" for flag in flags
             for close in [difflib.get_close_matches(flag, options, n=1, cutoff=0.75)] if close]
    return f"unrecognized arguments: {' '.join(extra)}" + (f" (did you mean {'; '.join(hints)}?)" if hints else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
        command = commands[args.command]
        command.error(_unrecognized(extra, command))
    if getattr(args, "preset", "") is None and args.command in ("distill", "select", "demo", "experts"):
        args.preset = "cpu"
    try:
        return args.func(args)
    except CoredistillError as e:
        print(f"coredistill {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`coredistill show ART | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
