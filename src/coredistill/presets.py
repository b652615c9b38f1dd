"""Named compute presets. Every result records the preset it ran under; compare only within one preset.

``paper`` is the field's protocol (DESIGN §3) and needs a GPU; ``cpu`` finishes on a laptop CPU in minutes;
``tiny`` is for tests and smoke runs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .registry import Registry


# expert trajectories an MTT run builds when neither the caller nor the preset says (the papers use 100; each
# costs a full training run)
DEFAULT_NUM_EXPERTS = 5


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    model: str = "ConvNet"
    model_options: dict[str, Any] = field(default_factory=dict)
    eval_nets: int = 5
    eval_epochs: int = 300  # without augmentation
    eval_epochs_dsa: int = 1000  # with DSA augmentation
    eval_dsa: bool = True
    # the per-image augmentation (augment.PerImageAugment strategy) per data set for eval nets that train without
    # DSA: the field's DC evaluation augments MNIST, and nothing else, with one of crop / scale / rotate per image
    eval_augment: dict[str, str] = field(default_factory=dict)
    # train the eval nets as one stacked model (evaluate.train_stacked): True, False or "auto" (when the stacked
    # batch fits the CPU cache: evaluate.stack_pays). Off by default: on the CPU it pays only for the smallest sets,
    # and it changes results at float-summation level, where one net after another is bit-identical to the
    # code before it (docs/throughput.md)
    eval_ensemble: bool | str = False
    # compile each eval net's training step (evaluate.train_net): True, False or "auto" (evaluate.compile_pays:
    # never on the CPU). Results equal the eager ones up to float rounding (a borderline test image may flip). Off
    # in every preset: on the CPU it does not pay (docs/throughput.md, "Compiled evaluation")
    eval_compiled: bool | str = False
    batch_size: int = 256
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)  # default options per distillation method
    # per-ipc overrides of those defaults: {method: {ipc: {option: value}}}; small budgets need more iterations at
    # ipc 1 (one outer step per iteration) than at ipc 10 (ten) for gradient matching to move the images at all
    methods_by_ipc: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    # default options per batch sampler, e.g. how much real data the importance sampler scores per refresh
    samplers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # MTT expert training (buffer.py: SGD lr 0.01 without momentum, batch 256, DSA on the real images, 50 epochs)
    experts: dict[str, Any] = field(default_factory=lambda: {"epochs": 50, "lr": 0.01, "batch_size": 256,
                                                             "dsa": True})
    # where each method's settings come from: {method: "paper / code, table or file; what differs here and why"}
    citations: dict[str, str] = field(default_factory=dict)

    def augment_without_dsa(self, dataset: str) -> str | None:
        """The per-image augmentation strategy for ``dataset``'s eval nets when they train without DSA."""
        return self.eval_augment.get(dataset)

    def num_experts(self) -> int:
        """How many expert trajectories an MTT run builds when not told: ``experts["num_experts"]`` when the preset
        sets it, else :data:`DEFAULT_NUM_EXPERTS` (one default for ``distill``, ``experts`` and ``reproduce``)."""
        return int(self.experts.get("num_experts", DEFAULT_NUM_EXPERTS))

    def epochs(self, dsa: bool) -> int:
        return self.eval_epochs_dsa if dsa else self.eval_epochs

    def with_overrides(self, **changes: Any) -> "Preset":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def method_options(self, method: str, ipc: int | None = None) -> dict[str, Any]:
        """The preset's default options for ``method`` (at ``ipc``, when the preset sets per-ipc overrides)."""
        return {**self.methods.get(method, {}), **self.methods_by_ipc.get(method, {}).get(ipc, {})}

    def sampler_options(self, sampler: str) -> dict[str, Any]:
        return dict(self.samplers.get(sampler, {}))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: Registry[Preset] = Registry("preset")
_VICO = "VICO-UoE/DatasetCondensation"
_PAPER_CITATIONS = {
    "dm": f"DM (Zhao & Bilen, WACV'23), {_VICO} main_DM.py defaults: Iteration 20000, lr_img 1.0 (SGD momentum "
          "0.5), batch_real 256 per class, init real, DSA color_crop_cutout_flip_scale_rotate (no flip for digits), "
          "eval 1000 epochs with DSA",
    "dc": f"DC (Zhao, Mopuri & Bilen, ICLR'21), {_VICO} main.py defaults: Iteration 1000, lr_img 0.1, lr_net 0.01, "
          "batch_real 256, batch_train 256, (outer, inner) loops per IPC as get_loops ((1, 1) at IPC 1, (10, 50) at "
          "IPC 10); eval 300 epochs without augmentation",
    "dsa": f"DSA (Zhao & Bilen, ICML'21), {_VICO} main.py with --method DSA: DC's settings, the Siamese "
           "augmentation in matching and 1000 eval epochs with DSA",
    "mtt": "MTT (Cazenavette et al., CVPR'22), GeorgeCazenavette/mtt-distillation readme: experts of 50 epochs, "
           "lr_teacher 0.01, lr_lr 1e-5, expert_epochs 2-3, max_start_epoch 20, syn_steps 20-30; the paper gives "
           "per-data-set settings for CIFAR / Tiny ImageNet only (no MNIST): those for CIFAR-10 at IPC 10 are used",
    "rfad": "RFAD (Loo et al., NeurIPS'22), yolky/RFAD run_distillation.py and distillation.py: AdaBelief (eps "
            "1e-16) at lr 1e-3 on the images and 5e-5 on a learned linear map of them (starting at the identity), "
            "jitter (ridge) 5e-3, 8 random no-norm ConvNets of doubled width, 4 x 1280 real images per step; the "
            "code early-stops on a validation split (up to 100,000 steps), here a fixed 10,000",
    "kip": "KIP (Nguyen, Chen & Lee, ICLR'21): Adam on the support images, exact-kernel KRR; its published numbers "
           "use the infinite-width ConvNet NTK (neural-tangents, JAX), which is not computed here: kip runs the KIP "
           "algorithm with an RBF kernel, so it reproduces the algorithm, not the paper's kernel or numbers",
}
_GRADIENT_MATCHING_PAPER = {"iterations": 1000, "batch_real": 256}
# VICO-UoE/DatasetCondensation utils.py get_daparam: strategy 'crop_scale_rotate' for MNIST, 'none' otherwise
_FIELD_EVAL_AUGMENT = {"mnist": "crop_scale_rotate"}
PRESETS.register("paper", Preset(
    "paper", "the field's protocol: ConvNet-3 width 128, 5 eval nets, 1000 epochs with DSA (300 without, MNIST "
    "then augmented per image as the field's DC evaluation); DM 20000 iterations, DC/DSA 1000, real batch 256 per "
    "class", eval_augment=dict(_FIELD_EVAL_AUGMENT),
    methods={"dm": {"iterations": 20000, "batch_real": 256}, "dc": dict(_GRADIENT_MATCHING_PAPER),
             "dsa": dict(_GRADIENT_MATCHING_PAPER),
             "rfad": {"iterations": 10000, "optimizer": "adabelief", "lr_transform": 5e-5},
             "kip": {"iterations": 1000, "batch_real": 128},
             "mtt": {"iterations": 5000, "syn_steps": 30, "expert_epochs": 2, "max_start_epoch": 20}},
    samplers={"relative-loss": {"pool": 1024, "refreshes": 20}},
    citations=_PAPER_CITATIONS))
# The field's evaluation on a CPU, for the reproduction table (issue 19): the paper preset's model, protocol and
# per-method hyper-parameters; only the budgets shrink, to about two core-hours of distillation per (method, data
# set, IPC) cell, from benchmarks/reproduce_budget.py's measured core-seconds per iteration (docs/results.md,
# "Reproduction"; benchmarks/results/reproduce-budget/). KIP's exact RBF kernel runs the paper's 1000 iterations.
# MTT's experts: 6 epochs (the fewest its max_start_epoch + expert_epochs need).
REPRODUCE_BUDGET_CORE_S = 7200
PRESETS.register("reproduce", Preset(
    "reproduce", "the field's evaluation on a CPU: ConvNet-3 width 128 with instance norm, 5 eval nets, 1000 "
    "epochs with DSA (300 without, MNIST then augmented per image as the field's DC evaluation); each method at "
    "its paper's settings, with iterations (and MTT's experts) cut "
    "to about two core-hours of distillation per cell where the paper's do not fit",
    methods={"dm": {"iterations": 750, "batch_real": 256}, "dc": {"iterations": 250, "batch_real": 256},
             "dsa": {"iterations": 250, "batch_real": 256},
             # RFAD's step at its code's defaults (8 kernel nets x 4 batches of 1280 real images) costs some 385
             # core-s here: one net and one batch per step (its code's --n_models / --n_batches flags) buy steps;
             # its code's optimizer and learned image map, as the paper preset (without them the cut budget's
             # images hardly travel: benchmarks/grids/reproduce-rfad-code.yaml's reading)
             "rfad": {"iterations": 700, "batch_real": 128, "kernel_options": {"num_models": 1},
                      "optimizer": "adabelief", "lr_transform": 5e-5},
             "kip": {"iterations": 1000, "batch_real": 128},
             "mtt": {"iterations": 900, "syn_steps": 30, "expert_epochs": 2, "max_start_epoch": 4}},
    methods_by_ipc={"dc": {10: {"iterations": 15}}, "dsa": {10: {"iterations": 15}},
                    "mtt": {10: {"iterations": 110}}},
    experts={"epochs": 6, "lr": 0.01, "batch_size": 256, "dsa": True, "num_experts": 3},
    samplers={"relative-loss": {"pool": 1024, "refreshes": 20}},
    eval_augment=dict(_FIELD_EVAL_AUGMENT), citations=_PAPER_CITATIONS))
_GRADIENT_MATCHING_CPU = {"iterations": 10, "batch_real": 64, "inner_loop": 5}
# an iteration is `ipc` outer steps at ipc 10 and one at ipc 1: 100 outer steps at ipc 10, set before any cpu-grid
# cell of dc/dsa ran, to fit the grid's time budget; ipc 1 retuned on validation splits (below)
_GRADIENT_MATCHING_CPU_IPC1 = {"iterations": 300, "lr_images": 0.3}
PRESETS.register("cpu", Preset(
    "cpu", "CPU-sized: ConvNet-3 width 32, 3 eval nets, 300 epochs, no eval augmentation; DM 200 iterations (600 "
    "at ipc 10), DC/DSA 10 iterations (300 at lr_images 0.3 at ipc 1) with 5 inner epochs, real batch 64 per class; "
    "RFAD 300 iterations at lr_images 0.03 (0.1 at ipc 1); MTT 200 iterations (500 at ipc 1, one-epoch target; "
    "learned soft labels at ipc 10)",
    model_options={"width": 32}, eval_nets=3, eval_epochs=300, eval_epochs_dsa=300, eval_dsa=False,
    methods={"dm": {"iterations": 200, "batch_real": 64}, "dc": dict(_GRADIENT_MATCHING_CPU),
             "dsa": dict(_GRADIENT_MATCHING_CPU),
             # far shorter than RFAD's 10,000 steps, with larger image steps (per ipc, below) so the images move;
             # 32 real images per class halves an iteration's cost against 64
             "rfad": {"iterations": 300, "batch_real": 32, "lr_images": 0.03,
                      "kernel_options": {"num_models": 2, "width": 64}},
             "kip": {"iterations": 200, "batch_real": 64},
             "mtt": {"iterations": 200, "syn_steps": 10, "expert_epochs": 2, "max_start_epoch": 4}},
    # 6 epochs: the fewest that the cpu mtt setting needs (max_start_epoch 4 + expert_epochs 2)
    experts={"epochs": 6, "lr": 0.01, "batch_size": 256, "dsa": False},
    # a smaller pool than the sampler's default keeps scoring a small share of a short run's distillation
    samplers={"relative-loss": {"pool": 128}},
    # chosen on the MNIST and Fashion-MNIST validation splits (issue 19; benchmarks/grids/tune-*.yaml): dm at ipc 10
    # 600 iterations (200 cleared herding by less than the point asked on MNIST); dc/dsa at ipc 1 300 iterations at
    # lr_images 0.3 (100 at the papers' 0.1 lost to herding on MNIST); rfad 300 iterations at lr_images 0.1 at ipc 1
    # and 0.03 at ipc 10 (the first preset's 100 at 0.01 hardly moved the images); mtt at ipc 1 a one-epoch target
    # from the first two expert epochs, 20 student steps from a larger starting step, 500 iterations at lr_images 30
    # (the preset's setting scored below random real images); mtt at ipc 10 DATM's learned soft labels at its ipc-10
    # label rate (lr_y 2), which gained on both seeds of both data sets' splits
    methods_by_ipc={"dc": {1: dict(_GRADIENT_MATCHING_CPU_IPC1)}, "dsa": {1: dict(_GRADIENT_MATCHING_CPU_IPC1)},
                    "dm": {10: {"iterations": 600}}, "rfad": {1: {"lr_images": 0.1}},
                    "mtt": {1: {"iterations": 500, "lr_images": 30, "syn_steps": 20, "expert_epochs": 1,
                                "max_start_epoch": 2, "lr_teacher": 0.03},
                            10: {"soft_labels": True, "lr_labels": 2.0}}}))
_GRADIENT_MATCHING_TINY = {"iterations": 2, "batch_real": 16, "inner_loop": 1}
PRESETS.register("tiny", Preset(
    "tiny", "seconds: ConvNet-3 width 32, 2 eval nets, 100 epochs; a few distillation iterations on batches of "
    "16; for tests and smoke runs",
    model_options={"width": 32}, eval_nets=2, eval_epochs=100, eval_epochs_dsa=100, eval_dsa=False,
    methods={"dm": {"iterations": 4, "batch_real": 16}, "dc": dict(_GRADIENT_MATCHING_TINY),
             "dsa": dict(_GRADIENT_MATCHING_TINY),
             "rfad": {"iterations": 3, "batch_real": 16, "kernel_options": {"num_models": 1, "width": 16}},
             "kip": {"iterations": 3, "batch_real": 16},
             "mtt": {"iterations": 2, "syn_steps": 2, "expert_epochs": 1, "max_start_epoch": 1}},
    experts={"epochs": 2, "lr": 0.01, "batch_size": 64, "dsa": False}))


def configure_method(method: str, by_ipc: dict[str, dict[int, dict[str, Any]]] | None = None,
                     **by_preset: dict[str, Any]) -> None:
    """Give a method registered outside this module its settings in each named preset (the built-in methods'
    are above), e.g. ``configure_method("toy", tiny={"iterations": 2}, cpu={...}, paper={...})``; ``by_ipc``
    holds per-preset, per-IPC overrides. Every registered method has settings in every preset (a test checks it),
    so that no preset runs a method at its constructor's defaults by accident."""
    for preset, options in by_preset.items():
        PRESETS.get(preset).methods[method] = dict(options)
    for preset, overrides in (by_ipc or {}).items():
        PRESETS.get(preset).methods_by_ipc[method] = {int(k): dict(v) for k, v in overrides.items()}


def get_preset(preset: str | Preset) -> Preset:
    return preset if isinstance(preset, Preset) else PRESETS.get(preset)
