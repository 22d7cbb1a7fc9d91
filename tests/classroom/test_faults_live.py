"""Faults of the classroom's parts, each with real processes: the broker, the database and the
service restarted or killed, a learner's agent offline and back. Nothing acknowledged is lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.classroom.conftest import JOB_LIMITS
from tests.support import models
from tests.support.classroom import Agent, Broker, Classroom, learner_env
from tests.support.live_server import settled_question
from tests.support.postgres import PostgresServer
from tests.support.timing import spent

pytestmark = pytest.mark.slow


def _scalar(room: Classroom, sql: str) -> object:
    engine = sa.create_engine(room.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def _wait(predicate, timeout: float, what: str) -> None:
    with spent("polling"):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, what
            time.sleep(0.2)


def test_a_job_stored_while_the_broker_is_down_survives_a_killed_service(
        classroom: Classroom, tmp_path: Path) -> None:
    """The trap PrairieLearn's users fell into: a job lost between the database and the queue.
    Here the broker is down when the save is stored, and the service is killed before it could
    publish; when both are back, the job goes out and is graded."""
    classroom.start(workers=0)
    service = classroom.service
    started = service.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    classroom.broker.kill9()
    try:
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        _wait(lambda: _scalar(classroom, "SELECT COUNT(*) FROM submissions") == 1, 60,
              "the save was not stored")
        time.sleep(2.0)  # the service tries to publish, and cannot
        assert _scalar(classroom, "SELECT published_at FROM submissions") is None
        service.kill9()
    finally:
        classroom.broker.start()
    service.start(timeout=60)
    health = service.get("/api/health")
    assert health["worker"]["mode"] == "classroom"
    classroom.add_worker("late")
    q1 = settled_question(service, session, "Q1", 1, timeout=240)
    assert q1["state"] == "graded" and q1["score"] == 5
    assert service.get(f"/api/sessions/{session}")["deadline"] == started["deadline"]


def test_queued_jobs_survive_a_broker_restart(any_broker: Broker, postgres: PostgresServer,
                                             keras_home: Path, tmp_path: Path) -> None:
    """The broker killed with -9 while it alone holds a published job (no worker yet): after
    its restart the job is still there and graded once. Redis keeps it through its append-only
    file; RabbitMQ through a durable queue and a persistent message, which its publisher
    confirm says is on disk before the service marks the job published. Then killed again while
    the service and a worker are connected: both reconnect."""
    classroom = Classroom(tmp_path, postgres, any_broker, env=JOB_LIMITS)
    try:
        classroom.start(workers=0)
        service = classroom.service
        started = service.start_session(tmp_path / "ws", minutes=30)
        models.save(models.line_model(), Path(started["project_dir"]) / "Q1" / "mymodel.h5")
        _wait(lambda: _scalar(classroom, "SELECT published_at FROM submissions") is not None, 60,
              "the job was not published")
        any_broker.kill9()  # queued in the broker, no worker yet: only the broker holds it
        any_broker.start()
        classroom.add_worker("after")
        # Well within the service's lease (4 min with these limits): the broker kept the job.
        q1 = settled_question(service, started["session"], "Q1", 1, timeout=150)
        assert q1["state"] == "graded" and q1["score"] == 5
        assert _scalar(classroom, "SELECT attempts FROM submissions") == 1
        # Killed again under a connected service and worker: both reconnect, and the next save
        # is published and graded.
        any_broker.kill9()
        any_broker.start()
        models.save(models.blobs_model(), Path(started["project_dir"]) / "Q2" / "mymodel.h5")
        q2 = settled_question(service, started["session"], "Q2", 1, timeout=150)
        assert q2["state"] == "graded"
        assert _scalar(classroom, "SELECT SUM(attempts) FROM submissions") == 2
    finally:
        classroom.stop()


def test_service_and_workers_reconnect_after_postgresql_restarts(classroom: Classroom,
                                                                 tmp_path: Path) -> None:
    classroom.start(workers=1)
    service = classroom.service
    started = service.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    settled_question(service, session, "Q1", 1, timeout=240)
    classroom.postgres.restart()  # every connection of the service and the worker is cut
    # The first request after the restart is answered: a dead connection is found before use.
    answer = httpx.get(f"{service.url}/api/sessions/{session}", headers=service.headers,
                       timeout=30)
    assert answer.status_code == 200, answer.text
    models.save(models.blobs_model(), project / "Q2" / "mymodel.h5")
    q2 = settled_question(service, session, "Q2", 1, timeout=240)
    assert q2["state"] == "graded"
    assert service.get(f"/api/sessions/{session}")["questions"][0]["score"] == 5


def test_an_agent_offline_uploads_when_the_service_is_back(classroom: Classroom,
                                                           tmp_path: Path) -> None:
    classroom.start(workers=1)
    service = classroom.service
    sitting = service.post("/api/classroom/sittings", {"exam": "smoke", "minutes": 30}).json()
    agent = Agent(service.url, sitting["join_code"], "Ada", tmp_path / "ada",
                  learner_env(classroom.env))
    try:
        meta = agent.wait_joined()
        service.kill9()  # the learner's network (or the service) is gone
        models.save(models.line_model(), agent.folder / "Q1" / "mymodel.h5")
        time.sleep(3.0)  # the agent tries, and keeps the save
        service.start(timeout=60)
        status = settled_question(service, str(meta["session"]), "Q1", 1, timeout=240)
        assert status["state"] == "graded" and status["score"] == 5
        assert "not reachable" in agent.log_path.read_text()
    finally:
        agent.stop()
