"""Question texts, band descriptions and result messages state the same thresholds: each question
text's score line is read and compared with its manifest's bands (and with `describe_bands`, which
the result and the report print)."""

from __future__ import annotations

import re

import pytest

from server.grading.trusted.scoring import band_sign, band_thresholds, describe_bands
from tests.exams.calibration import EXAMS, exam

PAIR = re.compile(r"([≥≤<])\s*([0-9]*\.?[0-9]+)\s*→\s*([0-5])")


def stated(text: str) -> dict[int, tuple[str, float]]:
    """Score -> (sign, threshold) from the text's "**Score…**" line(s)."""
    start = text.index("**Score")
    end = text.find("\n- ", start)
    line = text[start:end if end > 0 else None]
    pairs = {int(k): (sign, float(v)) for sign, v, k in PAIR.findall(line)}
    # a bare "< 0.14 → 4" after "MAE < 0.13 → 5" keeps the sign given first
    return pairs


def expected(scoring: dict) -> dict[int, tuple[str, float]]:
    return {k: (band_sign(scoring), t) for k, t in enumerate(band_thresholds(scoring), 1)}


@pytest.mark.parametrize("exam_id", ["tf-developer", "quick", "smoke"])
def test_question_texts_state_the_manifest_bands(exam_id: str) -> None:
    for question in exam(exam_id).questions:
        for variant in question.variants:
            text = (EXAMS / exam_id / variant.question).read_text(encoding="utf-8")
            scoring = variant.scoring.model_dump()
            assert stated(text) == expected(scoring), variant.question
            assert stated("**Score** " + describe_bands(variant.metric, scoring)) == expected(scoring)
            if scoring["kind"] == "exam_mae_formula":
                assert "min(5, ceil(17 - 100 × MAE))" in text, variant.question
            if scoring.get("no_model_check"):
                assert "warning" in text and "1.5 × the MAE of repeating the last value" in text
                assert "scores at most 1" not in text or "strict" in text
