"""A status read while a worker stores its result: never "graded" without a score. A result and its
submission's new state are committed together; the status reads them in two queries, and a commit
landing between them is made certain here (the race CI met once, with a worker in another process
and PostgreSQL). Files made at test time (no TensorFlow, no sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.grading.trusted.result import Result
from server.report.build import build_report
from server.services import Services
from server.sessions.status import session_status
from server.store import Store
from server.vocabulary import ResultStatus
from server.watch.model_files import ModelFile
from tests.sessions.conftest import small_keras


def _graded_after_read(services: Services, tmp_path: Path, monkeypatch, after: int):
    """A session whose Q2 save is being graded, and a store in which a worker stores its 5/5
    right after the `after`-th read of a session's submissions or results."""
    session = services.sessions.create("smoke", str(tmp_path / f"ws{after}"), minutes=10)
    target = small_keras(Path(session.project_dir) / "Q2" / "mymodel.keras")
    sub = services.intake.take(session.id, "Q2", ModelFile(target, "keras"), "save")
    assert services.store.claim(sub.id, services.clock.now()) is not None
    reads: list[str] = []

    def store_the_result() -> None:
        result = Result(session=session.id, question="Q2", submission=sub.id,
                        status=ResultStatus.GRADED, score=5, metric="mae", value=0.01,
                        sha256=sub.sha256, format="keras", size_bytes=target.stat().st_size,
                        source_path=str(target), saved_at=sub.saved_at, duration_seconds=0.3)
        services.store.save_result(sub.id, result.status, result.score,
                                   result.model_dump(mode="json"), services.clock.now())

    for name in ("submissions", "results"):
        real = getattr(Store, name)

        def read_then_maybe_commit(self, *args, _real=real, _name=name, **kwargs):
            rows = _real(self, *args, **kwargs)
            reads.append(_name)
            if len(reads) == after:
                store_the_result()
            return rows

        monkeypatch.setattr(Store, name, read_then_maybe_commit)
    return session


# Every point at which the worker's commit can land among the reads (a status reads twice, a
# report five times).
@pytest.mark.parametrize("after", range(1, 7))
def test_a_result_stored_between_the_reads_is_never_graded_without_a_score(
        services: Services, tmp_path: Path, monkeypatch, after: int) -> None:
    session = _graded_after_read(services, tmp_path, monkeypatch, after)
    status = session_status(services.store, session, services.clock.now())
    [q2] = [q for q in status["questions"] if q["id"] == "Q2"]
    assert q2["state"] in ("grading", "graded"), q2
    assert not (q2["state"] == "graded" and q2["score"] is None), q2


@pytest.mark.parametrize("after", range(1, 7))
def test_the_reports_history_is_never_graded_without_a_score(
        services: Services, tmp_path: Path, monkeypatch, after: int) -> None:
    session = _graded_after_read(services, tmp_path, monkeypatch, after)
    report = build_report(services.store, session, services.clock.now())
    [q2] = [q for q in report["questions"] if q["id"] == "Q2"]
    [entry] = q2["history"]
    assert not (entry["status"] == "graded" and entry["score"] is None), entry
    assert not (q2["score"] is None and entry["score"] == 5), (q2, entry)
