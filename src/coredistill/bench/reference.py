"""Published reference accuracies (ConvNet-3, the field's protocol; DESIGN §3), to set beside ``paper``-preset
runs. Keyed by data set, then method or selection baseline, then IPC; the method rows are each method's own
paper (its baseline variant here: random real init, uniform batches)."""
from __future__ import annotations

SOURCE = "DESIGN §3 (DC, DSA, DM, MTT, KIP papers)"

REFERENCE: dict[str, dict[str, dict[int, float]]] = {
    "cifar10": {
        "random": {1: 14.4, 10: 26.0, 50: 43.4}, "herding": {1: 21.5, 10: 31.6, 50: 40.4},
        "k-center": {1: 23.3, 10: 36.4, 50: 48.7}, "dc": {1: 28.3, 10: 44.9, 50: 53.9},
        "dsa": {1: 28.8, 10: 52.1, 50: 60.6}, "dm": {1: 26.0, 10: 48.9, 50: 63.0},
        "mtt": {1: 46.3, 10: 65.3, 50: 71.6}, "kip": {1: 49.9, 10: 62.7, 50: 68.6},
    },
    "mnist": {"dc": {1: 91.7, 10: 97.4, 50: 98.8}, "dsa": {1: 88.7, 10: 97.8, 50: 99.2}},
    "fashion-mnist": {"dc": {1: 70.5, 10: 82.3, 50: 83.6}, "dsa": {1: 70.6, 10: 84.6, 50: 88.7}},
}
FULL_DATA = {"cifar10": 84.8}
