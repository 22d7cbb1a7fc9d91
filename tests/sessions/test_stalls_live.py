"""tfexam's failures are tfexam's (issue 17). A grading process stopped with SIGSTOP past the
job's time limit used no CPU: that is a stall, retried in a new sandbox, and the model gets its real
grade, never "timeout, make the model smaller". A job whose grading met an internal error once it
was claimed is queued again within seconds, and health says so; it is then graded."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support import models
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

# Short enough to wait for, long enough for the smoke exam's line model on a busy machine.
JOB_SECONDS = 20


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, keras_home: Path) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("stalls") / "home"
    server = LiveServer(home, env={"TFEXAM_JOB_TIMEOUT": str(JOB_SECONDS)})
    server.start(wait_worker=True, timeout=240)
    try:
        yield server
    finally:
        server.stop()


def _warm_sandbox(live: LiveServer) -> list[psutil.Process]:
    """Every process of the warm sandbox that the next job will be given: the one health names
    and all it started."""
    pid = live.get("/api/health")["worker"]["pid"]
    assert pid, "no warm sandbox"
    top = psutil.Process(pid)
    return [top, *top.children(recursive=True)]


def test_a_stopped_grading_process_is_tfexams_failure_retried_and_graded(
        live: LiveServer, tmp_path: Path) -> None:
    started = live.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    live.wait_worker()
    stopped = _warm_sandbox(live)
    for process in stopped:
        os.kill(process.pid, signal.SIGSTOP)  # the grading process will not run its job
    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    status = live.wait_for(session, lambda s: live.question(s, "Q1")["state"] in (
        "graded", "error"), timeout=JOB_SECONDS + 240)
    q1 = live.question(status, "Q1")
    assert q1["state"] == "graded" and q1["score"] == 5, q1  # its real grade, after a retry
    assert "smaller" not in q1["message"], q1
    log = live.log_path.read_text()
    assert "was stopped" in log and "trying again" in log, log[-2000:]
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in stopped)


def test_an_internal_error_after_the_claim_is_queued_again_within_seconds(
        live: LiveServer, tmp_path: Path) -> None:
    started = live.start_session(tmp_path / "ws2", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    database = sqlite3.connect(live.home / "tfexam.sqlite3", timeout=30)
    try:
        # A record the grader cannot use (its task is gone): GradingJob.of raises KeyError,
        # inside tfexam's code, after the job was claimed.
        row = database.execute("SELECT variant_json FROM session_questions WHERE session_id = ?"
                               " AND question_id = 'Q1'", (session,)).fetchone()
        variant = json.loads(row[0])
        broken = {k: v for k, v in variant.items() if k != "task"}
        with database:
            database.execute("UPDATE session_questions SET variant_json = ? WHERE session_id = ?"
                             " AND question_id = 'Q1'", (json.dumps(broken), session))
        live.wait_worker()
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        health = live.wait_for_health(lambda h: any(
            r["question"] == "Q1" for r in h["worker"]["requeued"]), timeout=120)
        requeued = health["worker"]["requeued"][-1]
        assert "internal error" in requeued["why"] and "KeyError" in requeued["why"], requeued
        assert "KeyError" in (health["worker"]["internal_error"] or "")
        with database:  # mended: the next claim grades it
            database.execute("UPDATE session_questions SET variant_json = ? WHERE session_id = ?"
                             " AND question_id = 'Q1'", (json.dumps(variant), session))
    finally:
        database.close()
    status = live.wait_for(session, lambda s: live.question(s, "Q1")["state"] in (
        "graded", "error"), timeout=240)
    q1 = live.question(status, "Q1")
    assert q1["state"] == "graded" and q1["score"] == 5 and q1["submissions"] == 1, q1
    assert live.get("/api/health")["worker"]["stuck"] == []
