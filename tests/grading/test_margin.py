"""The honest margin: Wilson for accuracy, a content-seeded block bootstrap for MAE, borderline
when a band edge lies inside the interval; the same predictions always give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from server.grading import margin


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
