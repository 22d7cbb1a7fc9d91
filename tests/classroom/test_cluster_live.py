"""The cluster on this machine: the service, two workers and twenty learners' agents (real
processes), each learner saving two real models. Every save is graded, none twice, none lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import models
from tests.support.classroom import Agent, Classroom, learner_env
from tests.support.timing import spent

pytestmark = pytest.mark.slow

LEARNERS = 20


def test_twenty_learners_two_workers_every_save_graded_once(classroom: Classroom,
                                                            tmp_path: Path) -> None:
    classroom.start(workers=2)
    service = classroom.service
    sitting = service.post("/api/classroom/sittings", {"exam": "smoke", "minutes": 30}).json()
    env = learner_env(classroom.env)
    line = tmp_path / "line.h5"
    blobs = tmp_path / "blobs.h5"
    models.save(models.line_model(), line)
    models.save(models.blobs_model(), blobs)
    agents = [Agent(service.url, sitting["join_code"], f"learner{n:02d}", tmp_path / f"l{n:02d}",
                    env) for n in range(LEARNERS)]
    try:
        for agent in agents:
            agent.wait_joined()
        for agent in agents:  # as a starter saves: written in place, then complete
            (agent.folder / "Q1" / "mymodel.h5").write_bytes(line.read_bytes())
            (agent.folder / "Q2" / "mymodel.h5").write_bytes(blobs.read_bytes())
        cohort: dict = {}
        with spent("polling"):
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                cohort = service.get(f"/api/classroom/sittings/{sitting['id']}")
                scores = [q["score"] for r in cohort["learners"] for q in r["questions"]]
                if len(scores) == 2 * LEARNERS and None not in scores:
                    break
                time.sleep(1.0)
        assert cohort["joined"] == LEARNERS
        scores = [q["score"] for r in cohort["learners"] for q in r["questions"]]
        assert None not in scores, cohort
        assert all(r["questions"][0]["score"] == 5 for r in cohort["learners"])
        assert cohort["failed"] == [] and cohort["stuck"] == []
    finally:
        for agent in agents:
            agent.stop()
    engine = sa.create_engine(classroom.database_url)
    try:
        with engine.connect() as conn:
            submissions = conn.execute(sa.text(
                "SELECT id, attempts, state FROM submissions")).fetchall()
            results = conn.execute(sa.text("SELECT COUNT(*) FROM results")).scalar()
            announced = conn.execute(sa.text(
                "SELECT COUNT(*) FROM events WHERE kind = 'result'")).scalar()
            graders = conn.execute(sa.text(
                "SELECT COUNT(*) FROM events WHERE kind = 'submission.grading'")).scalar()
    finally:
        engine.dispose()
    assert len(submissions) == 2 * LEARNERS  # every save arrived once (retries stored once)
    assert {state for _, _, state in submissions} == {"graded"}
    assert results == announced == graders == 2 * LEARNERS  # none graded twice, none lost
    assert all(attempts == 1 for _, attempts, _ in submissions)
    logs = [w.log_path.read_text(errors="replace") for w in classroom.workers]
    assert all("grading submission" in text for text in logs), "one worker took no job"
