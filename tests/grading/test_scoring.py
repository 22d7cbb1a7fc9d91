"""Metric -> score, including the real exam's MAE formula at its stated edges."""

from __future__ import annotations

import math

from server.grading.scoring import band_thresholds, score

MAE = {"kind": "exam_mae_formula"}


def test_exam_formula_matches_the_stated_thresholds() -> None:
    assert score(0.12, MAE) == 5
    assert score(0.125, MAE) == 5
    assert score(0.13, MAE) == 4
    assert score(0.05, MAE) == 5
    assert score(0.3, MAE) == 0
    assert score(math.nan, MAE) == 0
    assert band_thresholds(MAE)[4] == 0.13


def test_bands_count_consecutive_thresholds() -> None:
    accuracy = {"kind": "bands", "higher_is_better": True, "thresholds": [0.5, 0.6, 0.7, 0.8, 0.9]}
    assert score(0.95, accuracy) == 5
    assert score(0.75, accuracy) == 3
    assert score(0.1, accuracy) == 0
    error = {"kind": "bands", "higher_is_better": False, "thresholds": [10, 1, 0.1, 0.01, 0.001]}
    assert score(0.005, error) == 4
    assert score(None, error) == 0
