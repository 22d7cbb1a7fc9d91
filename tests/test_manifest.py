"""The template format refuses what would make an exam unfair or unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import REPO_EXAMS
from server.manifest import Scoring, TemplateError, list_exams, load_exam


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
