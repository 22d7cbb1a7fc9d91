"""Build the report of a session: verdict, total against the pass mark, and per question the
counted model, its metric against the bands, its history, its data and what to study next."""

from __future__ import annotations

from typing import Any

from server.clock import iso
from server.grading.trusted.scoring import band_sign, band_thresholds, describe_bands
from server.report.formatting import grader_keras
from server.sessions.status import question_views, session_status
from server.store import Store
from server.store.records import SessionRecord
from server.workspace.keras_env import describe

STATUS_ADVICE = {
    "none": "Save a model for this question (or press Submit and Test): a question never "
            "submitted scores 0, whatever the others score.",
    "contract_error": "Match the exact input and output shapes and the final activation the "
                      "starter shows; print model.summary() before saving.",
    "refused": "Replace Lambda layers and custom objects with built-in Keras layers: the grader "
               "will not run code it cannot trust.",
    "load_error": "Save with model.save(\"mymodel.h5\") from the starter's __main__ block and "
                  "check that the file opens with keras.models.load_model.",
    "evaluation_error": "Check the data scaling and the learning rate: the model's predictions "
                        "could not be scored (NaN or the wrong size).",
    "timeout": "Build a model of a size that fits the problem: grading ran out of time.",
    "memory": "Build a smaller model: grading ran out of memory.",
}


def study_next(variant: dict[str, Any], score: int, status: str,
               warnings: list[str] | None = None) -> list[str]:
    """What to study for every question under 5: the variant's own advice, led by what the
    failure itself says to fix, so a learner with an error is not told to "train longer". A
    result's warnings (a forecast no better than one without a model) are study items even at
    5/5: the exam's formula was kind to it, the next exam may not be."""
    warnings = list(warnings or [])
    if score >= 5:
        return [*warnings, *variant.get("study", [])] if warnings else []
    advice = list(variant.get("study", []))
    if status in STATUS_ADVICE:
        advice.insert(0, STATUS_ADVICE[status])
    return [*warnings, *advice]


def build_report(store: Store, session: SessionRecord, now: float) -> dict[str, Any]:
    status = session_status(store, session, now)
    views = question_views(store, session)
    results = store.results(session.id)  # after the views' submissions, as question_views reads
    questions = []
    for view in views:
        variant = view.record.variant
        counted = view.counted
        payload = view.counted_result.payload if view.counted_result else None
        margin = view.margin_facts
        history = [
            {"submission": s.id, "saved_at": iso(s.saved_at), "trigger": s.trigger,
             "score": results[s.id].score if s.id in results else None,
             "status": results[s.id].status if s.id in results else s.state,
             "counted_in_time": s.saved_at <= session.cutoff}
            for s in view.submissions if s.state != "superseded"
        ]
        score = view.score or 0
        questions.append({
            "id": view.record.question_id,
            "title": view.record.title,
            "variant": {"id": variant["id"], "title": variant["title"]},
            "weight": view.record.weight,
            "score": score,
            "status": payload["status"] if payload else "none",
            "messages": (payload["messages"] if payload else [
                "No model was submitted for this question, so it scores 0."])
            + ([view.record.late_note] if view.record.late_note else []),
            "metric": variant["metric"],
            "value": payload.get("value") if payload else None,
            "bands": describe_bands(variant["metric"], variant["scoring"]),
            "band_thresholds": band_thresholds(variant["scoring"]),
            "higher_is_better": variant["scoring"].get("higher_is_better", True)
            and variant["scoring"].get("kind") != "exam_mae_formula",
            "model": None if counted is None else {
                "file": counted.source_path.rsplit("/", 1)[-1],
                "format": counted.format,
                "sha256": counted.sha256,
                "size_bytes": counted.size_bytes,
                "saved_at": iso(counted.saved_at),
                "keras": payload.get("keras") if payload else None,
                "grader_keras": grader_keras(payload.get("keras") if payload else None,
                                             session.keras),
                "summary": payload.get("model") if payload else None,
            },
            "submissions": len(history),
            "history": history,
            "diagnostics": payload.get("diagnostics") if payload else {},
            "data": view.record.data,
            "skills": variant.get("skills", []),
            "study": study_next(variant, score, payload["status"] if payload else "none",
                                margin["warnings"]),
            **margin,
            "band_sign": band_sign(variant["scoring"]),
        })
    return {
        "session": session.id,
        "exam": {"id": session.exam_id, "title": status["exam_title"]},
        "state": session.state,
        "started_at": status["started_at"],
        "deadline": status["deadline"],
        "submitted_at": status["submitted_at"],
        "submit_reason": session.submit_reason,
        "seed": session.seed,
        "keras": session.keras,
        "keras_text": describe(session.keras),
        "total": status["total"],
        "pass_mark": status["pass_mark"],
        "passed": status["passed"],
        "grading_pending": status["grading_pending"],
        "questions": questions,
    }
