"""The honest margin: Wilson for accuracy, a content-seeded block bootstrap for MAE, borderline
when a band edge lies inside the interval; the same predictions always give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from server.grading.trusted import evaluation, margin, scorer


def test_wilson_matches_the_textbook_values() -> None:
    # 81 of 100: the Wilson 95 % interval is about [0.7222, 0.8749].
    m = margin.wilson(81, 100)
    assert m.low == pytest.approx(0.7222, abs=1e-3) and m.high == pytest.approx(0.8749, abs=1e-4)
    assert margin.wilson(100, 100).high == 1.0 and margin.wilson(0, 10).low == 0.0


def test_bootstrap_is_a_function_of_the_content() -> None:
    rng = np.random.default_rng(3)
    errors = np.abs(rng.normal(0, 0.05, size=235))
    first, second = margin.bootstrap_mean(errors), margin.bootstrap_mean(errors.copy())
    assert first == second
    assert first.low < errors.mean() < first.high
    other = margin.bootstrap_mean(errors[::-1])  # same values, other order: other seed and blocks
    assert other != first
    # Noise in the last bits of a prediction does not move the interval.
    assert margin.bootstrap_mean(errors + 1e-13).as_list() == first.as_list()


def test_block_bootstrap_is_wider_for_correlated_errors() -> None:
    rng = np.random.default_rng(0)
    smooth = np.abs(np.convolve(rng.normal(0, 0.05, 400), np.ones(20) / 20, mode="same"))
    blocks = margin.bootstrap_mean(smooth)
    single = margin.Margin(*np.quantile(
        [rng.choice(smooth, len(smooth)).mean() for _ in range(2000)], [0.025, 0.975]), "iid")
    assert blocks.high - blocks.low > single.high - single.low


def test_borderline_when_an_edge_is_inside() -> None:
    interval = margin.Margin(0.78, 0.83, "wilson")
    assert margin.borderline(interval, [0.6, 0.7, 0.8, 0.85, 0.9])
    assert not margin.borderline(interval, [0.6, 0.7, 0.75, 0.85, 0.9])


BANDS = {"kind": "bands", "higher_is_better": True, "thresholds": [0.2, 0.4, 0.6, 0.8, 0.95]}


def _classified(correct: int, total: int) -> evaluation.Evaluation:
    """A real classification evaluation (Wilson interval) of `correct` right out of `total`."""
    labels = np.arange(total) % 2
    predicted = labels.copy()
    predicted[correct:] = 1 - predicted[correct:]
    probabilities = np.eye(2)[predicted]
    return evaluation.classification(probabilities, {"x": np.zeros((total, 1)), "y": labels},
                                     "accuracy")


def _forecast(errors: np.ndarray) -> evaluation.Evaluation:
    """A real series evaluation (block bootstrap) of a forecast off by `errors` at each step."""
    t = np.arange(400, dtype="float32")
    values = (0.5 + 0.4 * np.sin(t / 10)).astype("float32")
    data = {"series": values, "split_time": np.asarray(300), "window": np.asarray(30)}
    return evaluation.series(lambda windows: (values[300:] + errors)[:, None], data, "mae")


def test_judge_says_borderline_when_a_band_edge_is_inside_the_interval() -> None:
    # 80 of 100 right: accuracy 0.8 sits on the 4/5 edge; Wilson gives about 0.711 - 0.867.
    points, verdict, facts = scorer.judge(_classified(80, 100), BANDS)
    assert points == 4 and facts["borderline"] is True
    assert facts["interval"][0] < 0.8 < facts["interval"][1]
    assert verdict.endswith("; borderline: a band edge lies inside it."), verdict

    # The formula's edges (MAE 0.13 is the 4/5 edge): an MAE about 0.13 with noise straddles it.
    rng = np.random.default_rng(7)
    errors = rng.choice([-1.0, 1.0], 100) * rng.uniform(0.08, 0.18, 100)
    result = _forecast(errors)
    points, verdict, facts = scorer.judge(result, {"kind": "exam_mae_formula"})
    assert points == 4
    assert facts["interval"][0] < 0.13 < facts["interval"][1], (result.value, facts)
    assert facts["borderline"] is True and "borderline" in verdict


def test_judge_is_not_borderline_far_from_every_edge() -> None:
    points, verdict, facts = scorer.judge(_classified(990, 1000), BANDS)
    assert points == 5 and facts["borderline"] is False
    assert facts["interval"][0] > 0.95 and "borderline" not in verdict
    errors = np.random.default_rng(7).uniform(0.04, 0.06, 100)
    points, verdict, facts = scorer.judge(_forecast(errors), {"kind": "exam_mae_formula"})
    assert points == 5 and facts["borderline"] is False and "borderline" not in verdict
    assert facts["interval"][1] < 0.13
