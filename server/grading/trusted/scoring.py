"""Metric value -> score 0-5, the exam's way, and the words that explain it. Pure Python: the
trusted side scores with it, the report explains the bands with it, and question texts are tested
against `describe_bands` so that they all state the same thresholds.

Series questions are scored by the real exam's formula, `min(5, ceil(17 - 100 * MAE))`. That
formula is generous (on sunspots the constant training mean scores 5/5), so a forecast no better
than a forecast without a model gets a warning; only an exam with the `strict` option caps it at 1.
"""

from __future__ import annotations

import math
from typing import Any

NAIVE_FACTOR = 1.5


def is_formula(scoring: dict[str, Any]) -> bool:
    return scoring.get("kind") == "exam_mae_formula"


def score(value: float | None, scoring: dict[str, Any]) -> int:
    if value is None or not math.isfinite(value):
        return 0
    if is_formula(scoring):
        return int(min(5, max(0, math.ceil(17 - 100 * value))))
    higher = scoring.get("higher_is_better", True)
    points = 0
    for threshold in scoring["thresholds"]:
        if not (value >= threshold if higher else value <= threshold):
            break
        points += 1
    return points


def band_thresholds(scoring: dict[str, Any]) -> list[float]:
    """The value each score 1..5 needs; the formula's score k needs MAE < (18 - k) / 100."""
    if is_formula(scoring):
        return [(18 - k) / 100 for k in range(1, 6)]
    return [float(t) for t in scoring["thresholds"]]


def band_sign(scoring: dict[str, Any]) -> str:
    if is_formula(scoring):
        return "<"
    return "≥" if scoring.get("higher_is_better", True) else "≤"


def no_model_yardstick(metrics: dict[str, float]) -> tuple[str, float] | None:
    """The stricter of two forecasts that need no model: the training mean at every step, and
    half again the MAE of repeating the last value."""
    if "constant_mae" not in metrics or "naive_mae" not in metrics:
        return None
    candidates = {
        f"forecasting the training mean at every step (MAE {metrics['constant_mae']:.4g})":
            metrics["constant_mae"],
        f"{NAIVE_FACTOR:g} × the MAE of repeating the last value "
        f"({NAIVE_FACTOR:g} × {metrics['naive_mae']:.4g} = {NAIVE_FACTOR * metrics['naive_mae']:.4g})":
            NAIVE_FACTOR * metrics["naive_mae"],
    }
    return min(candidates.items(), key=lambda item: item[1])


def no_model_warning(metrics: dict[str, float], scoring: dict[str, Any]) -> str | None:
    """A sentence when the forecast is no better than a forecast without a model, else None."""
    if not scoring.get("no_model_check") or "mae" not in metrics:
        return None
    yardstick = no_model_yardstick(metrics)
    if yardstick is None:
        return None
    name, limit = yardstick
    if metrics["mae"] < limit:
        return None
    return (f"This forecast is no better than a forecast without a model: MAE {metrics['mae']:.4g} is "
            f"not below {name}. The exam's formula still scores it; train the model on the windows "
            "until it beats that yardstick.")


def strict_cap(points: int, warning: str | None, scoring: dict[str, Any]) -> tuple[int, str | None]:
    """With the exam's `strict` option, a forecast that earned the warning scores at most 1."""
    if not scoring.get("strict") or warning is None or points <= 1:
        return points, None
    return 1, f"Score 1/5 under this exam's strict option (the exam's formula gives {points}/5)."


def describe_bands(metric: str, scoring: dict[str, Any]) -> str:
    """The bands in the words every question text uses: "≥ 0.6 → 1, …" or the formula's "< 0.13 → 5"."""
    sign = band_sign(scoring)
    if is_formula(scoring):
        pairs = reversed(list(enumerate(band_thresholds(scoring), 1)))
        bands = ", ".join(f"{sign} {t:g} → {k}" for k, t in pairs)
        text = (f"score = min(5, ceil(17 - 100 × {metric})), the real exam's formula: {metric} {bands}, "
                "otherwise 0.")
    else:
        bands = ", ".join(f"{sign} {t:g} → {k}" for k, t in enumerate(band_thresholds(scoring), 1))
        text = f"{metric} {bands}."
    if scoring.get("no_model_check"):
        if scoring.get("strict"):
            text += (" Strict option: a forecast no better than a forecast without a model (the training"
                     f" mean, or {NAIVE_FACTOR:g} × the MAE of repeating the last value) scores at most 1.")
        else:
            text += (" A forecast no better than a forecast without a model (the training mean, or"
                     f" {NAIVE_FACTOR:g} × the MAE of repeating the last value) gets a warning.")
    return text
