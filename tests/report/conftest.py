"""A real store holding a graded smoke session, built in-process with a ManualClock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.services import Services
from server.store.records import SessionRecord, SubmissionRecord

CONFUSION = [[90, 8, 2], [5, 93, 2], [1, 4, 95]]


def add_graded(services: Services, session: SessionRecord, question: str, minutes: float,
               score: int, status: str = "graded", diagnostics: dict[str, Any] | None = None
               ) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    saved_at = session.started_at + minutes * 60
    sub = services.store.add_submission(SubmissionRecord(
        0, session.id, question, f"{session.project_dir}/{question}/mymodel.h5", "snap",
        f"{question}{minutes:08.3f}".ljust(64, "0"), "h5", 17208, saved_at, saved_at, "save",
        "queued", 0, None), now=clock.now())
    payload = {
        "status": status, "messages": [f"Score {score}/5."], "value": 0.2 * score,
        "keras": "Keras 3", "diagnostics": diagnostics or {},
        "model": {"input_shape": "(None, 2)", "output_shape": "(None, 3)",
                  "final_activation": "softmax", "layers": ["Dense"], "parameters": 99},
    }
    services.store.save_result(sub.id, status, score, payload, clock.now())


@pytest.fixture
def services(tmp_path: Path):
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), ManualClock())
    yield built
    built.db.close()


@pytest.fixture
def graded_session(services: Services, tmp_path: Path) -> SessionRecord:
    """Q1 saved twice (an error, then 5/5), Q2 graded 3/5 with a confusion matrix; submitted."""
    clock: ManualClock = services.clock  # type: ignore[assignment]
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    add_graded(services, session, "Q1", 1.0, 0, status="contract_error")
    add_graded(services, session, "Q1", 2.5, 5, diagnostics={
        "kind": "regression", "points": [{"x": x, "expected": 2 * x - 1, "predicted": 2 * x - 0.9}
                                         for x in (-4.0, 7.5, 10.0, 15.0)]})
    add_graded(services, session, "Q2", 4.0, 3, diagnostics={
        "kind": "classification", "class_names": ["a", "b", "c"], "confusion_matrix": CONFUSION,
        "recall": [0.9, 0.93, 0.95], "examples": 300})
    clock.advance(300)
    services.sessions.finish(session.id, reason="learner")
    return services.sessions.get(session.id)
