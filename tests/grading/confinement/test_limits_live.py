"""The worker's limits and its supervision: past a limit the worker is killed and restarted and the
Result says which limit; a dead worker is replaced; a job cut off by a crash is graded again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import LiveServer, settled_question

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory, keras_home):
    live = LiveServer(tmp_path_factory.mktemp("strict"), env={
        "TFEXAM_JOB_TIMEOUT": "6", "TFEXAM_JOB_MEMORY_MB": "1500"}).start(wait_worker=True,
                                                                         timeout=180)
    yield live
    live.stop()


def test_time_limit_then_memory_limit_then_a_good_file(strict_server: LiveServer, tmp_path: Path):
    started = strict_server.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    starts = strict_server.get("/api/health")["worker"]["starts"]

    # Far beyond 6 s on any machine: a quiet one predicts the default LSTM(8) in less
    models.save(models.slow_model(units=128), project / "Q2" / "mymodel.h5")
    q2 = settled_question(strict_server, session, "Q2", 1)
    assert q2["state"] == "error" and q2["score"] == 0
    assert "time limit (6 s)" in q2["message"], q2["message"]

    models.save(models.memory_hog_model(), project / "Q2" / "mymodel.keras")
    q2 = settled_question(strict_server, session, "Q2", 2)
    assert "memory limit: the model used" in q2["message"], q2["message"]
    assert "the limit is 1500 MB" in q2["message"], q2["message"]

    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    q1 = settled_question(strict_server, session, "Q1", 1)
    assert q1["state"] == "graded" and q1["score"] == 5
    strict_server.wait_worker()  # a fresh sandbox is warm again
    # A sandbox a limit stopped is never used again; the one that graded Q1 may be.
    assert strict_server.get("/api/health")["worker"]["starts"] >= starts + 2


def test_a_killed_worker_is_replaced(strict_server: LiveServer, tmp_path: Path) -> None:
    started = strict_server.start_session(tmp_path / "ws", minutes=30)
    strict_server.wait_worker()
    old_pid = strict_server.get("/api/health")["worker"]["pid"]
    os.kill(old_pid, signal.SIGKILL)
    models.save(models.line_model(), Path(started["project_dir"]) / "Q1" / "mymodel.h5")
    q1 = settled_question(strict_server, started["session"], "Q1", 1)
    assert q1["state"] == "graded" and q1["score"] == 5
    assert strict_server.get("/api/health")["worker"]["pid"] != old_pid


def test_job_cut_off_by_a_service_crash_is_graded_at_start_up(tmp_path: Path, keras_home: Path):
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=180)
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session = started["session"]
        models.save(models.slow_model(steps=30000), Path(started["project_dir"]) / "Q2" /
                    "mymodel.h5")
        live.wait_for(session, lambda s: live.question(s, "Q2")["state"] == "grading", timeout=60)
        live.kill9()
        live.start()
        assert live.question(live.get(f"/api/sessions/{session}"), "Q2")["state"] in (
            "waiting", "grading")
        q2 = settled_question(live, session, "Q2", 1, timeout=180)
        assert q2["state"] == "graded" and q2["submissions"] == 1, q2
    finally:
        live.stop()
