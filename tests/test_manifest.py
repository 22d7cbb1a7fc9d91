"""The template format refuses what would make an exam unfair or unusable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.config import REPO_EXAMS
from server.grading.trusted.evaluation import Evaluation
from server.grading.trusted.scorer import judge
from server.grading.trusted.scoring import describe_bands
from server.manifest import Exam, Scoring, TemplateError, Variant, list_exams, load_exam


def test_smoke_template_loads() -> None:
    exam = load_exam(REPO_EXAMS / "smoke")
    assert [q.id for q in exam.questions] == ["Q1", "Q2"]
    assert exam.question("Q2").variants[0].final_activation == "softmax"


def test_bands_must_tighten_from_one_to_five() -> None:
    with pytest.raises(ValueError, match="stricter"):
        Scoring(higher_is_better=True, thresholds=[0.9, 0.8, 0.7, 0.6, 0.5])
    with pytest.raises(ValueError, match="five"):
        Scoring(thresholds=[0.5, 0.6])


def test_broken_manifest_names_file_and_problem(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "manifest.toml").write_text('id = "broken"\ntitle = "x"\nduration_minutes = 5\n'
                                          "pass_mark = 2\nquestions = []\n")
    with pytest.raises(TemplateError, match="manifest.toml"):
        load_exam(folder)
    assert "broken" not in list_exams(tmp_path)


def _series_variants(exam: Exam) -> list[Variant]:
    return [v for q in exam.questions for v in q.variants if v.task == "series"]


def test_tf_developer_scores_like_the_real_exam_no_strict_cap() -> None:
    """The real exam had no cap on a forecast that learned nothing: tf-developer warns, and every
    variant a session stores (what the grader reads) has strict off."""
    exam = load_exam(REPO_EXAMS / "tf-developer")
    assert exam.strict is False
    stored = [exam.scored_variant(v) for q in exam.questions for v in q.variants]
    assert len(stored) == 11  # three Category1 lines (issue 20 added the real 2021 y = x + 1)
    assert [s["scoring"]["strict"] for s in stored] == [False] * len(stored)
    series = [exam.scored_variant(v)["scoring"] for v in _series_variants(exam)]
    assert len(series) == 2 and all(s["no_model_check"] for s in series)
    assert all("gets a warning" in describe_bands("mae", s) for s in series)


def test_an_exam_with_strict_on_folds_it_into_every_stored_variant(tmp_path: Path) -> None:
    """`strict = true` is an exam-wide option, but the grader sees only the stored variant: the
    option must reach each variant's scoring, and a series forecast with the no-model warning is
    then capped at 1 instead of scoring the formula's 5."""
    folder = tmp_path / "tf-developer"
    shutil.copytree(REPO_EXAMS / "tf-developer", folder)
    manifest = folder / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    assert "\nstrict = false\n" in text
    manifest.write_text(text.replace("\nstrict = false\n", "\nstrict = true\n"), encoding="utf-8")
    exam = load_exam(folder)
    assert exam.strict is True
    stored = [exam.scored_variant(v) for q in exam.questions for v in q.variants]
    assert [s["scoring"]["strict"] for s in stored] == [True] * len(stored)
    # The template itself is left as written: the fold is a copy for the session.
    assert not any(v.scoring.strict for q in exam.questions for v in q.variants)

    learned_nothing = Evaluation("mae", 0.06, {"mae": 0.06, "naive_mae": 0.03, "constant_mae": 0.05})
    (variant,) = [v for v in _series_variants(exam) if v.id == "sunspots"]
    strict_points, strict_verdict, strict_facts = judge(learned_nothing,
                                                        exam.scored_variant(variant)["scoring"])
    real = load_exam(REPO_EXAMS / "tf-developer")
    (real_variant,) = [v for v in _series_variants(real) if v.id == "sunspots"]
    points, verdict, facts = judge(learned_nothing, real.scored_variant(real_variant)["scoring"])
    assert (points, strict_points) == (5, 1)
    assert verdict.startswith("Score 5/5")
    assert strict_verdict.startswith("Score 1/5 under this exam's strict option")
    assert facts["warnings"] and facts["warnings"] == strict_facts["warnings"]
