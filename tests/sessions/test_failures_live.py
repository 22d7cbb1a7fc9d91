"""Failures are contained: a locked database is retried and reported and no request waits on it
for more than about a second; a missing project folder does not stop the service and is watched
again when it comes back."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import LiveServer, settled_question

pytestmark = pytest.mark.slow


def test_a_locked_database_is_retried_reported_and_never_stalls_requests(tmp_path: Path,
                                                                          keras_home: Path):
    line = models.line_model()
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=180)
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session, project = started["session"], Path(started["project_dir"])
        locker = sqlite3.connect(live.home / "tfexam.sqlite3", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            models.save(line, project / "Q1" / "mymodel.h5")
            for _ in range(10):
                # Answered (`get` raises on a 503): a read that waited on the writer would have
                # run out its busy timeout and been refused, since the lock is never let go here.
                live.get(f"/api/sessions/{session}")
                time.sleep(0.2)
            began = time.monotonic()
            refused = live.post(f"/api/sessions/{session}/finish")
            waited = time.monotonic() - began
            assert refused.status_code == 503 and "try again" in refused.json()["detail"]
            # The busy timeout (1 s), then a sentence: never a request held while the lock is,
            # which here is for ever (the bound is loose so a busy machine holds it too).
            assert waited < 15.0, waited
            health = live.get("/api/health")
            assert health["status"] == "degraded"
            assert health["database"]["state"] == "degraded"
            assert "locked" in health["database"]["error"]
            assert health["watcher"]["state"] == "degraded"  # the save could not be stored yet
            assert health["watcher"]["alive"] and health["sweeper"]["alive"]
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        status = live.wait_for(session, lambda s: live.question(s, "Q1")["score"] is not None,
                               timeout=60)
        assert live.question(status, "Q1")["score"] == 5  # the save was retried, not lost
        assert status["state"] == "running"
        health = live.wait_for_health(lambda h: h["status"] == "ok", timeout=30)
        assert health["database"]["error"] is None and health["database"]["total_failures"] > 0
    finally:
        live.stop()


def test_a_missing_project_folder_is_reported_and_watched_again(tmp_path: Path,
                                                                 keras_home: Path):
    line = models.line_model()
    live = LiveServer(tmp_path / "home").start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session, project = started["session"], Path(started["project_dir"])
        aside = tmp_path / "aside"
        live.kill9()
        project.rename(aside)
        live.start()  # starts although the folder is gone
        status = live.get(f"/api/sessions/{session}")
        assert status["project"] == "missing" and str(project) in status["project_message"]
        assert session in live.get("/api/health")["watcher"]["missing_projects"]

        aside.rename(project)
        live.wait_for(session, lambda s: s["project"] == "ok", timeout=30)
        live.wait_for_health(lambda h: session in h["watching"], timeout=30)
        models.save(line, project / "Q1" / "mymodel.h5")
        status = live.wait_for(session, lambda s: live.question(s, "Q1")["score"] is not None,
                               timeout=180)
        assert live.question(status, "Q1")["score"] == 5

        # Deleted while the service runs, then restored: detection resumes.
        shutil.move(str(project), str(aside))
        live.wait_for_health(lambda h: session in h["watcher"]["missing_projects"], timeout=30)
        assert live.get(f"/api/sessions/{session}")["project"] == "missing"
        shutil.move(str(aside), str(project))
        live.wait_for_health(lambda h: session in h["watching"], timeout=30)
        (project / "Q1" / "mymodel.h5").unlink()
        models.save(models.line_model(trained=False), project / "Q1" / "mymodel.h5")
        q1 = settled_question(live, session, "Q1", 2)
        assert q1["state"] == "graded" and q1["score"] < 5
    finally:
        live.stop()



def test_a_result_that_meets_a_locked_database_is_stored_when_it_is_free(tmp_path: Path,
                                                                         keras_home: Path):
    """The grading thread's own write: the database is locked from the moment grading starts, so
    the finished result cannot be stored. It must be kept and stored once the lock is gone (not
    left "grading" for good), and health must say why meanwhile."""
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=180)
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session, project = started["session"], Path(started["project_dir"])
        database = live.home / "tfexam.sqlite3"
        reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        deadline = time.monotonic() + 120
        while reader.execute("SELECT COUNT(*) FROM submissions WHERE state = 'grading'"
                             ).fetchone()[0] == 0:
            assert time.monotonic() < deadline, "grading never started"
            time.sleep(0.01)
        locker = sqlite3.connect(database, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another writer holds the database from now on
        try:
            health = live.wait_for_health(lambda h: h["worker"]["store_error"], timeout=120)
            assert "locked" in health["worker"]["store_error"]
            assert reader.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
        finally:
            locker.execute("ROLLBACK")
            locker.close()
            reader.close()
        q1 = settled_question(live, session, "Q1", 1, timeout=30)
        assert q1["state"] == "graded" and q1["score"] == 5
        assert live.get("/api/health")["worker"]["store_error"] is None
    finally:
        live.stop()
