"""The learner's README tells the rules and why a variant was not drawn (the IDE files are tested
in test_ide_files.py)."""

from __future__ import annotations

from pathlib import Path

from server.config import REPO_EXAMS
from server.datasets.base import Provenance
from server.manifest import load_exam
from server.workspace.draw import Drawn
from server.workspace.readme import learner_readme


def test_readme_states_rules_and_skipped_variants(tmp_path: Path) -> None:
    exam = load_exam(REPO_EXAMS / "smoke")
    drawn = [
        Drawn(q, q.variants[0], Provenance(
            dataset="d", title="some data", source="standin" if q.id == "Q2" else "mirror",
            location="x", complete=q.id != "Q1", note="made here",
            skipped=[{"variant": "other", "reason": "its data cannot be had"}] if q.id == "Q1"
            else []), tmp_path / f"{q.id}.npz")
        for q in exam.questions
    ]
    text = learner_readme(exam, drawn, {"id": "s1", "deadline": 1_800_000_000.0})
    assert "Lambda layers are not supported" in text and "latest" in text
    assert "never published" in text and "90%" in text
    assert "`Q1`: variant other was not drawn: its data cannot be had" in text
    assert "`Q2`: the photos are an **offline stand-in**" in text
    assert "(mirror, partial)" in text
