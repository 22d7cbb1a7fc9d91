"""Grading through Celery: the service publishes keys, `tfexam worker` processes grade in their own
warm sandboxes, and a result is stored once, whatever a worker's death made run twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import models
from tests.support.classroom import Classroom
from tests.support.live_server import settled_question

pytestmark = pytest.mark.slow


def _rows(room: Classroom, sql: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(room.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def test_a_save_is_graded_by_a_worker(classroom: Classroom, tmp_path: Path) -> None:
    classroom.start(workers=1)
    service = classroom.service
    started = service.start_session(tmp_path / "ws", minutes=30)
    assert service.get("/api/health")["worker"]["mode"] == "classroom"
    models.save(models.line_model(), Path(started["project_dir"]) / "Q1" / "mymodel.h5")
    q1 = settled_question(service, started["session"], "Q1", 1, timeout=240)
    assert q1["state"] == "graded" and q1["score"] == 5
    [(published,)] = _rows(classroom, "SELECT published_at FROM submissions")
    assert published is not None  # it went through the broker, not a grader in the service


def test_a_worker_killed_mid_grading_is_graded_again_and_stored_once(classroom: Classroom,
                                                                     tmp_path: Path) -> None:
    classroom.start(workers=1)
    worker = classroom.workers[0]
    worker.wait_ready()
    service = classroom.service
    started = service.start_session(tmp_path / "ws", minutes=30)
    session = started["session"]
    # Seconds to predict: long enough to be killed in the middle of.
    models.save(models.slow_model(steps=30000), Path(started["project_dir"]) / "Q2" / "mymodel.h5")
    service.wait_for(session, lambda s: service.question(s, "Q2")["state"] == "grading",
                     timeout=120, poll=0.05)
    time.sleep(0.5)  # inside the sandbox now
    [victim] = worker.pool_processes()
    victim.kill()  # kill -9 of the process that grades
    # Well within the service's lease (4 min with these limits): the broker gave it back.
    q2 = settled_question(service, session, "Q2", 1, timeout=150)
    assert q2["state"] in ("graded", "error")
    [(sub_id, attempts, state)] = _rows(classroom, "SELECT id, attempts, state FROM submissions")
    assert attempts == 2, "the job was not graded again after its worker died"
    assert _rows(classroom, "SELECT COUNT(*) FROM results") == [(1,)]
    kinds = [k for (k,) in _rows(classroom, "SELECT kind FROM events WHERE session_id = :s "
                                 "ORDER BY id", s=session)]
    # The learner saw it grading (twice: the second worker process took it up), then one result.
    assert kinds.count("submission.grading") == 2 and kinds.count("result") == 1
    assert kinds.index("result") > max(i for i, k in enumerate(kinds) if k == "submission.grading")
    assert worker.process.poll() is None  # the worker's main process carries on


def test_a_job_delivered_twice_at_once_stores_one_result(classroom: Classroom,
                                                         tmp_path: Path) -> None:
    """Two workers grade the same submission at the same time (a duplicate delivery, as a
    redelivery after a lost acknowledgement makes): the store keeps the first result only, and
    the learner hears of one."""
    from server.classroom.broker import make_app, publish
    from server.config import Settings

    classroom.start(workers=2)
    for worker in classroom.workers:
        worker.wait_ready()
    service = classroom.service
    started = service.start_session(tmp_path / "ws", minutes=30)
    models.save(models.slow_model(steps=30000), Path(started["project_dir"]) / "Q2" / "mymodel.h5")
    deadline = time.monotonic() + 120
    while not _rows(classroom, "SELECT id FROM submissions WHERE published_at IS NOT NULL"):
        assert time.monotonic() < deadline, "the job was not published"
        time.sleep(0.05)
    [(sub_id,)] = _rows(classroom, "SELECT id FROM submissions")
    settings = Settings.from_env(home=classroom.home, broker_url=classroom.redis.url)
    publish(make_app(settings), settings, sub_id)  # the same key again, at once
    settled_question(service, started["session"], "Q2", 1, timeout=240)
    deadline = time.monotonic() + 240
    while sum(w.log_path.read_text(errors="replace").count("succeeded in")
              for w in classroom.workers) < 2:  # the second grading finishes too
        assert time.monotonic() < deadline, "the second delivery never finished"
        time.sleep(0.2)
    [(attempts,)] = _rows(classroom, "SELECT attempts FROM submissions")
    assert attempts == 2, "the duplicate was not graded alongside (the test proves nothing)"
    assert _rows(classroom, "SELECT COUNT(*) FROM results") == [(1,)]
    assert _rows(classroom, "SELECT COUNT(*) FROM events WHERE kind = 'result'") == [(1,)]
