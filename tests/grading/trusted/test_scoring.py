"""Metric -> score, including the real exam's MAE formula at its stated edges."""

from __future__ import annotations

import math

from server.grading.trusted.scoring import band_thresholds, score

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


SERIES = {"kind": "exam_mae_formula", "no_model_check": True}
SUNSPOTS = {"mae": 0.1268, "naive_mae": 0.0405, "constant_mae": 0.1268}


def test_no_model_forecast_is_warned_not_capped_by_default() -> None:
    from server.grading.trusted.scoring import no_model_warning, strict_cap

    warning = no_model_warning(SUNSPOTS, SERIES)
    assert warning and "no better than a forecast without a model" in warning
    assert "1.5 × the MAE of repeating the last value" in warning
    assert score(SUNSPOTS["mae"], SERIES) == 5
    assert strict_cap(5, warning, SERIES) == (5, None)
    capped, why = strict_cap(5, warning, {**SERIES, "strict": True})
    assert capped == 1 and "strict" in why
    assert no_model_warning({**SUNSPOTS, "mae": 0.045}, SERIES) is None


def test_band_texts_state_the_formula_edges_once() -> None:
    from server.grading.trusted.scoring import describe_bands

    text = describe_bands("mae", SERIES)
    assert "mae < 0.13 → 5" in text and "< 0.17 → 1" in text and "≤ 0.12" not in text
    assert "gets a warning" in text
    assert "scores at most 1" in describe_bands("mae", {**SERIES, "strict": True})
