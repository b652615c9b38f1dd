"""``kernel-leverage``: kernel-fitting sensitivity for KRR methods (DESIGN §1b).

The sensitivity of the kernel ridge fitting loss is bounded by the ridge leverage score plus 1/n:

    τ_i(λ) = φ_iᵀ (ΦᵀΦ + λ I)⁻¹ φ_i = [K (K + λ I)⁻¹]_ii,     Σ_i τ_i = d_λ (effective degrees of freedom).

With random features Φ (n x D) the primal form costs O(n D²) time and O(D²) memory; the exact form on an
n x n kernel matrix is limited to ``MAX_EXACT_N`` points. Default λ: ``reg * tr(K) / n`` (``reg = 0.01``), i.e.
1 % of the mean kernel diagonal, which makes the scores invariant to the kernel's scale.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import linalg

from ..distributed import ClassShard
from ..errors import invalid
from .selection import INITIALIZERS, ScoreSampler

MAX_EXACT_N = 10_000  # an n x n float64 kernel of 10k points is 800 MB and an O(n^3) solve
_CHUNK = 8192


def _resolve_lambda(lam: float | None, reg: float, trace: float, n: int) -> float:
    if lam is None:
        if not (isinstance(reg, (int, float)) and reg > 0):
            raise invalid("reg", reg, "a positive number (λ = reg * tr(K) / n)")
        lam = reg * trace / n
        return lam if lam > 0 else reg  # all-zero features: any positive λ gives τ = 0
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not np.isfinite(lam) or lam <= 0:
        raise invalid("lam", lam, "a positive finite number")
    return float(lam)


def ridge_leverage(phi: np.ndarray, lam: float | None = None, reg: float = 0.01,
                   shard: ClassShard | None = None) -> np.ndarray:
    """Ridge leverage scores of the rows of a feature matrix ``phi`` (primal form, O(D²) memory).

    With a ``shard`` of several processes, chunk k of rows is handled by rank k mod world: the chunks' Gram
    matrices are gathered round by round and summed in chunk order, so every process gets one process's bits.
    """
    shard = shard or ClassShard()
    phi = np.asarray(phi)
    n, d = phi.shape
    starts = range(0, n, _CHUNK)
    gram = np.zeros((d, d))
    for first in range(0, len(starts), shard.world):  # one chunk per process per round, summed in chunk order
        part = np.zeros((d, d))  # a process past the last chunk adds zeros, which changes no bit
        if first + shard.rank < len(starts):
            s = starts[first + shard.rank]
            block = phi[s:s + _CHUNK].astype(np.float64)
            part = block.T @ block
        for g in shard.all_gather(part):
            gram += g
    lam = _resolve_lambda(lam, reg, float(np.trace(gram)), n)
    # τ_i = φ_iᵀ (L Lᵀ)⁻¹ φ_i = ‖L⁻¹ φ_i‖²: one triangular solve per block instead of cho_solve's two
    chol = linalg.cholesky(gram + lam * np.eye(d), lower=True)
    tau = np.zeros(n)
    for k, s in enumerate(starts):
        if shard.owns(k):
            z = linalg.solve_triangular(chol, phi[s:s + _CHUNK].astype(np.float64).T, lower=True,
                                        check_finite=False)
            tau[s:s + _CHUNK] = np.einsum("ij,ij->j", z, z)
    return shard.combine_rows(tau)


def exact_leverage(kernel: np.ndarray, lam: float | None = None, reg: float = 0.01) -> np.ndarray:
    """``diag(K (K + λI)⁻¹) = 1 - λ diag((K + λI)⁻¹)`` from an explicit n x n kernel matrix."""
    kernel = np.asarray(kernel, dtype=np.float64)
    n = len(kernel)
    if kernel.shape != (n, n):
        raise invalid("kernel", kernel.shape, "a square (n, n) kernel matrix")
    if n > MAX_EXACT_N:
        raise invalid("n", n, f"at most {MAX_EXACT_N} points for the exact kernel (n x n memory and an O(n³) "
                      "solve): use random features (kernel='linear' on kernel-rf features)")
    lam = _resolve_lambda(lam, reg, float(np.trace(kernel)), n)
    inv = linalg.cho_solve(linalg.cho_factor(kernel + lam * np.eye(n), lower=True), np.eye(n))
    return 1.0 - lam * np.diag(inv)


def gram(features: np.ndarray, kernel: str, kernel_options: dict[str, Any] | None = None) -> np.ndarray:
    """The exact float64 Gram matrix of ``features`` under a kernel of :mod:`coredistill.kernels` (e.g. ``rbf``,
    with its own data-scaled default width)."""
    from ..kernels import create_kernel

    k = create_kernel(kernel, **(kernel_options or {}))
    x = torch.from_numpy(np.asarray(features, dtype=np.float64))
    k.setup(x, 0, torch.device("cpu"))
    if k.random:
        k.resample(0)
    with torch.no_grad():
        return k.kernel(x, x).double().numpy()


@INITIALIZERS.decorator("kernel-leverage")
class KernelLeverage(ScoreSampler):
    """Sample each class ∝ τ_i(λ) + 1/n, the kernel-fitting sensitivity, computed over the whole train set.

    ``kernel="linear"``: the features are the kernel's feature map (the default ``kernel-rf`` random features of
    the ConvNet NNGP), any n. Any kernel of :mod:`coredistill.kernels` (e.g. ``"rbf"``, with ``kernel_options``):
    that kernel's exact Gram matrix on the features, n <= ``MAX_EXACT_N``.
    """

    default_features = "kernel-rf"

    def __init__(self, lam: float | None = None, reg: float = 0.01, kernel: str = "linear",
                 kernel_options: dict[str, Any] | None = None, mode: str = "distinct") -> None:
        self.lam = lam
        self.reg = reg
        self.kernel = kernel
        self.kernel_options = kernel_options
        self.mode = mode

    def check(self, class_counts: np.ndarray) -> None:
        super().check(class_counts)
        from ..kernels import KERNELS

        if self.kernel != "linear" and self.kernel not in KERNELS:
            raise invalid("kernel", self.kernel, "'linear' (the features are the feature map) or an exact kernel: "
                          + ", ".join(KERNELS.names()))
        if self.lam is not None:
            _resolve_lambda(self.lam, self.reg, 1.0, 1)

    def score(self, features, labels, ipc, rng, shard=None):
        n = len(features)
        if self.kernel == "linear":
            tau = ridge_leverage(features, self.lam, self.reg, shard)
        else:
            if n > MAX_EXACT_N:  # refuse before building the n x n matrix
                raise invalid("n", n, f"at most {MAX_EXACT_N} points for kernel={self.kernel!r}: use kernel='linear'")
            tau = exact_leverage(gram(features, self.kernel, self.kernel_options), self.lam, self.reg)
        return np.clip(tau, 0.0, 1.0) + 1.0 / n
