"""Metric value -> score 0-5, the exam's way. Pure Python: the worker scores with it and the
report explains the bands with it."""

from __future__ import annotations

import math
from typing import Any


def score(value: float | None, scoring: dict[str, Any]) -> int:
    if value is None or not math.isfinite(value):
        return 0
    if scoring.get("kind") == "exam_mae_formula":
        return int(min(5, max(0, math.ceil(17 - 100 * value))))
    higher = scoring.get("higher_is_better", True)
    met = [value >= t if higher else value <= t for t in scoring["thresholds"]]
    points = 0
    for ok in met:
        if not ok:
            break
        points += 1
    return points


def band_thresholds(scoring: dict[str, Any]) -> list[float]:
    """The value each score 1..5 needs; the MAE formula's bands are MAE < (18 - k) / 100."""
    if scoring.get("kind") == "exam_mae_formula":
        return [(18 - k) / 100 for k in range(1, 6)]
    return [float(t) for t in scoring["thresholds"]]


def describe_bands(metric: str, scoring: dict[str, Any]) -> str:
    cap = (" A forecast no better than the training mean, or with half again the error of repeating the"
           " last value, scores at most 1."
           if scoring.get("cap_trivial") else "")
    if scoring.get("kind") == "exam_mae_formula":
        return f"score = min(5, ceil(17 - 100 × {metric})): {metric} ≤ 0.12 scores 5." + cap
    sign = "≥" if scoring.get("higher_is_better", True) else "≤"
    parts = [f"{k}: {metric} {sign} {t:g}" for k, t in enumerate(scoring["thresholds"], 1)]
    return "; ".join(parts) + ("." + cap if cap else "")
