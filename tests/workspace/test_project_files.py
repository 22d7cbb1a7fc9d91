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


def test_question_text_ends_with_the_data_note_of_a_partial_session(tmp_path: Path) -> None:
    """Issue 20: a session on a partial copy says in the question itself that its scores are not
    the real exam's (the template states the rule; this says which case the learner is in)."""
    from server.workspace.materialise import write_project

    exam = load_exam(REPO_EXAMS / "smoke")
    drawn = [Drawn(q, q.variants[0], Provenance(
        dataset="d", title="Some data", source="mirror", location="x", complete=q.id != "Q1",
        note="holds 5 of 9 records: other copies cannot be scored faithfully here."),
        tmp_path / f"{q.id}.npz") for q in exam.questions]
    write_project(REPO_EXAMS / "smoke", exam, tmp_path / "p", drawn,
                  {"id": "s1", "deadline": 1_800_000_000.0}, "http://127.0.0.1:1")
    template = {q.id: (REPO_EXAMS / "smoke" / q.variants[0].question).read_text(encoding="utf-8")
                for q in exam.questions}
    partial = (tmp_path / "p" / "Q1" / "question.md").read_text(encoding="utf-8")
    assert partial.startswith(template["Q1"])
    assert partial.endswith("## This session's data\n\nSome data: partial. holds 5 of 9 records: "
                            "other copies cannot be scored faithfully here.\n")
    assert (tmp_path / "p" / "Q2" / "question.md").read_text(encoding="utf-8") == template["Q2"]
