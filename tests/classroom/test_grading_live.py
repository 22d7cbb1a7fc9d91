"""Grading through Celery: the service publishes keys, `tfexam worker` processes grade in their own
warm sandboxes, and a result is stored once, whatever a worker's death made run twice. A whole
worker killed is recovered by RabbitMQ at once and, with Redis, by the service's lease; one
learner's burst of saves does not hold up another learner's single save (both brokers)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.classroom.conftest import JOB_LIMITS
from tests.support import models
from tests.support.classroom import Broker, Classroom, Worker
from tests.support.live_server import ROOT, settled_question
from tests.support.postgres import PostgresServer
from tests.support.timing import spent

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
    settings = Settings.from_env(home=classroom.home, broker_url=classroom.broker.url)
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


def _kill_the_grading_worker(room: Classroom) -> tuple[Worker, Worker, float, str]:
    """Two warm workers; a slow save; the worker that took it is killed with -9, main process,
    pool process and sandboxes at once (a machine lost). Returns the killed one, the other, the
    job's first publication time and the session."""
    room.start(workers=2)
    for worker in room.workers:
        worker.wait_ready()
    service = room.service
    started = service.start_session(room.home.parent / "ws", minutes=30)
    session = started["session"]
    models.save(models.slow_model(steps=30000), Path(started["project_dir"]) / "Q2" / "mymodel.h5")
    service.wait_for(session, lambda s: service.question(s, "Q2")["state"] == "grading",
                     timeout=120, poll=0.05)
    [(published,)] = _rows(room, "SELECT published_at FROM submissions")
    time.sleep(0.5)  # inside the sandbox now
    [victim] = [w for w in room.workers
                if "grading submission" in w.log_path.read_text(errors="replace")]
    [other] = [w for w in room.workers if w is not victim]
    victim.kill9()
    return victim, other, published, session


def _graded_again_and_stored_once(room: Classroom, session: str, other: Worker) -> None:
    [(attempts,)] = _rows(room, "SELECT attempts FROM submissions")
    assert attempts == 2, "the job was not graded again after its worker died"
    assert _rows(room, "SELECT COUNT(*) FROM results") == [(1,)]
    kinds = [k for (k,) in _rows(room, "SELECT kind FROM events WHERE session_id = :s "
                                 "ORDER BY id", s=session)]
    # The learner saw it grading (twice: the surviving worker took it up), then one result.
    assert kinds.count("submission.grading") == 2 and kinds.count("result") == 1
    assert kinds.index("result") > max(i for i, k in enumerate(kinds) if k == "submission.grading")
    assert "grading submission" in other.log_path.read_text(errors="replace")


def test_a_whole_worker_killed_mid_grading_is_redelivered_by_rabbitmq(
        rabbit_classroom: Classroom) -> None:
    """RabbitMQ hands an unacknowledged job on as soon as its consumer's connection drops (late
    acknowledgement): the other worker grades it long before the service's lease (4 min)."""
    room = rabbit_classroom
    _, other, published, session = _kill_the_grading_worker(room)
    q2 = settled_question(room.service, session, "Q2", 1, timeout=150)
    assert q2["state"] in ("graded", "error")
    _graded_again_and_stored_once(room, session, other)
    # Published once: the broker gave the job back, not the service's lease.
    assert _rows(room, "SELECT published_at FROM submissions") == [(published,)]


def test_a_whole_worker_killed_mid_grading_is_published_again_after_the_lease_with_redis(
        tmp_path: Path, postgres: PostgresServer, redis_server: Broker,
        keras_home: Path) -> None:
    """Redis gives an unacknowledged job back only after its visibility timeout (twice the hard
    limit: 7 min here); the service's lease (20 s here, by TFEXAM_GRADING_LEASE) publishes it
    again first, and the surviving worker grades it."""
    room = Classroom(tmp_path, postgres, redis_server,
                     env={**JOB_LIMITS, "TFEXAM_GRADING_LEASE": "20"})
    try:
        _, other, published, session = _kill_the_grading_worker(room)
        q2 = settled_question(room.service, session, "Q2", 1, timeout=150)
        assert q2["state"] in ("graded", "error")
        _graded_again_and_stored_once(room, session, other)
        [(again,)] = _rows(room, "SELECT published_at FROM submissions")
        assert again > published + 20 - 1, "the job was not published again by the lease"
    finally:
        room.stop()


def _five_question_exam(folder: Path) -> Path:
    """The smoke exam's line question five times over: a learner can save five at once."""
    smoke = ROOT / "exams" / "smoke"
    exams = folder / "exams"
    (exams / "burst").mkdir(parents=True)
    manifest = (smoke / "manifest.toml").read_text()
    head, q1 = manifest.split("[[questions]]")[0:2]
    text = head.replace('id = "smoke"', 'id = "burst"')
    for number in range(1, 6):
        shutil.copytree(smoke / "Q1", exams / "burst" / f"Q{number}")
        text += "[[questions]]" + q1.replace('"Q1', f'"Q{number}')
    (exams / "burst" / "manifest.toml").write_text(text)
    return exams


def test_one_learners_burst_does_not_hold_up_another_learners_save(
        tmp_path: Path, postgres: PostgresServer, any_broker: Broker, keras_home: Path) -> None:
    """With one worker, Ada saves five questions at once and Ben one just after: Ben's job is
    graded second (after Ada's first), not sixth. Every job is in the broker before the worker
    starts, so the order is the broker's alone: the priorities set at publish."""
    exams = _five_question_exam(tmp_path)
    room = Classroom(tmp_path, postgres, any_broker,
                     env={**JOB_LIMITS, "TFEXAM_EXAMS": str(exams)})
    try:
        room.start(workers=0)
        service = room.service
        ada = service.start_session(tmp_path / "ada", exam="burst", minutes=30)
        ben = service.start_session(tmp_path / "ben", exam="burst", minutes=30)
        for number in range(1, 6):
            models.save(models.line_model(), Path(ada["project_dir"]) / f"Q{number}" / "mymodel.h5")
        published = "SELECT COUNT(*) FROM submissions WHERE published_at IS NOT NULL"
        with spent("polling"):
            deadline = time.monotonic() + 120
            while _rows(room, published) != [(5,)]:
                assert time.monotonic() < deadline, "Ada's saves were not all published"
                time.sleep(0.1)
            models.save(models.line_model(), Path(ben["project_dir"]) / "Q1" / "mymodel.h5")
            while _rows(room, published) != [(6,)]:
                assert time.monotonic() < deadline, "Ben's save was not published"
                time.sleep(0.1)
        room.add_worker("only")
        for number in range(1, 6):
            settled_question(service, ada["session"], f"Q{number}", 1, timeout=240)
        settled_question(service, ben["session"], "Q1", 1, timeout=240)
        order = [session for (session,) in _rows(
            room, "SELECT session_id FROM events WHERE kind = 'result' ORDER BY id")]
        assert len(order) == 6
        assert order.index(ben["session"]) == 1, (
            f"Ben's save was graded in place {order.index(ben['session']) + 1} of 6, behind "
            "Ada's burst")
    finally:
        room.stop()
