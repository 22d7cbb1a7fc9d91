"""An honest margin: the 95 % interval of a metric over the held-out set, and whether a band edge
lies inside it (then the score could as well be the neighbouring one: "borderline").

Pure numpy on predictions and labels (the trusted side computes it; no model is needed). Accuracy
gets the Wilson score interval, which is exact arithmetic on (correct, total). MAE and MSE get a
circular block bootstrap (the errors of a forecast are correlated in time, so resampling single
steps would claim too narrow a margin) whose seed is derived from the errors themselves: the same
predictions always give the same interval, so the same file always gets the same numbers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
RESAMPLES = 2000


@dataclass(frozen=True)
class Margin:
    low: float
    high: float
    method: str

    def as_list(self) -> list[float]:
        return [round(self.low, 6), round(self.high, 6)]


def wilson(correct: int, total: int, z: float = Z95) -> Margin:
    """The Wilson score interval of a proportion (correct / total)."""
    if total <= 0:
        return Margin(0.0, 1.0, "wilson")
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Margin(max(0.0, centre - half), min(1.0, centre + half), "wilson")


def content_seed(values: np.ndarray) -> int:
    """A seed that depends only on the values (rounded, so that float noise in the last bits of a
    prediction cannot change the interval)."""
    rounded = np.round(np.asarray(values, dtype="float64"), 9) + 0.0  # -0.0 -> 0.0
    return int.from_bytes(hashlib.sha256(rounded.tobytes()).digest()[:8], "little")


def block_length(count: int) -> int:
    """The classic n^(1/3) block length of the block bootstrap, at least 1."""
    cube_root: float = float(count) ** (1 / 3)
    return max(1, round(cube_root))


def bootstrap_mean(values: np.ndarray, resamples: int = RESAMPLES) -> Margin:
    """95 % percentile interval of the mean of `values` (per-step absolute or squared errors) by a
    circular block bootstrap seeded from the values."""
    values = np.asarray(values, dtype="float64").ravel()
    count = len(values)
    if count == 0:
        return Margin(math.nan, math.nan, "bootstrap")
    rng = np.random.default_rng(content_seed(values))
    length = block_length(count)
    blocks = math.ceil(count / length)
    starts = rng.integers(0, count, size=(resamples, blocks))
    index = (starts[:, :, None] + np.arange(length)[None, None, :]).reshape(resamples, -1)[:, :count]
    means = values[index % count].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Margin(float(low), float(high), f"block bootstrap ({resamples} resamples, blocks of {length})")


def borderline(margin: Margin, edges: Sequence[float]) -> bool:
    """True when a score-changing edge lies within the interval."""
    return any(margin.low <= edge <= margin.high for edge in edges)


def accuracy_margin(predicted: np.ndarray, labels: np.ndarray) -> Margin:
    predicted, labels = np.asarray(predicted).ravel(), np.asarray(labels).ravel()
    return wilson(int(np.sum(predicted == labels)), int(len(labels)))


def error_margin(forecast: np.ndarray, actual: np.ndarray, metric: str) -> Margin:
    errors = np.asarray(forecast, dtype="float64").ravel() - np.asarray(actual, dtype="float64").ravel()
    per_step = np.abs(errors) if metric == "mae" else errors ** 2
    return bootstrap_mean(per_step)
