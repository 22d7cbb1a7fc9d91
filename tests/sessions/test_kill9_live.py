"""kill -9 during bursts of saves and gradings, round after round: every result ever shown
survives, every save is graded exactly once (or replaced by a newer save before its turn), the
database passes `PRAGMA integrity_check`, and the deadline never moves.

Three rounds in the ordinary suite; `make soak` runs twenty (TFEXAM_KILL_ROUNDS=20).
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from server.clock import iso
from tests.support import models
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("TFEXAM_KILL_ROUNDS", "3"))


def _versions(tmp_path: Path) -> dict[str, list[bytes]]:
    """A few distinct real models per question, saved once (the service never loads them here)."""
    q1 = []
    for i in range(5):
        model = models.line_model(weight=2.0, bias=-1.0 + 0.2 * i)
        q1.append(models.save(model, tmp_path / f"q1-{i}.h5").read_bytes())
    q2 = [models.save(models.blobs_model(), tmp_path / f"q2-{i}.h5").read_bytes()
          for i in range(3)]
    return {"Q1": q1, "Q2": q2}


def _save(project: Path, question: str, data: bytes) -> None:
    models.place(data, project / question / "mymodel.h5", "mymodel.tmp.h5")


def _shown(live: LiveServer, session: str) -> dict[int, tuple[Any, Any]]:
    """Every graded submission the service shows now: id -> (score, status)."""
    report = live.get(f"/api/sessions/{session}/report")
    return {h["submission"]: (h["score"], h["status"]) for q in report["questions"]
            for h in q["history"] if h["score"] is not None}


def test_kill_nine_during_bursts_loses_nothing(tmp_path: Path, keras_home: Path) -> None:
    rng = random.Random(int(os.environ.get("TFEXAM_KILL_SEED", "11")))
    versions = _versions(tmp_path)
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=240)
    seen: dict[int, tuple[Any, Any]] = {}
    try:
        started = live.start_session(tmp_path / "ws", minutes=120)
        session, project = started["session"], Path(started["project_dir"])
        for round_ in range(ROUNDS):
            for _ in range(rng.randint(3, 6)):
                question = rng.choice(["Q1", "Q2"])
                _save(project, question, rng.choice(versions[question]))
                if rng.random() < 0.4:
                    live.post(f"/api/sessions/{session}/questions/{question}/submit")
                time.sleep(rng.uniform(0.05, 0.8))
                seen.update(_shown(live, session))
            time.sleep(rng.uniform(0.0, 1.5))  # land the kill anywhere, grading included
            seen.update(_shown(live, session))
            live.kill9()
            if rng.random() < 0.5:  # sometimes a save while the service is down
                question = rng.choice(["Q1", "Q2"])
                _save(project, question, rng.choice(versions[question]))
            live.start(wait_worker=True, timeout=240)
            now_shown = _shown(live, session)
            lost = {k: v for k, v in seen.items() if now_shown.get(k) != v}
            assert not lost, f"round {round_}: results shown before the kill changed: {lost}"
            status = live.get(f"/api/sessions/{session}")
            assert status["deadline"] == started["deadline"], round_

        final = live.wait_for(session, lambda s: not s["grading_pending"]
                              and all(q["state"] in ("graded", "error") for q in s["questions"]),
                              timeout=240)
        shown = _shown(live, session)
        assert all(shown.get(k) == v for k, v in seen.items())
        for question in ("Q1", "Q2"):
            assert live.question(final, question)["score"] is not None
    finally:
        live.stop()

    db = sqlite3.connect(live.home / "tfexam.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = dict(db.execute("SELECT state, COUNT(*) FROM submissions GROUP BY state"))
        assert states.get("queued", 0) == 0 and states.get("grading", 0) == 0, states
        # Every submission that was not replaced has exactly one result (the primary key makes
        # "at most one"; this checks "at least one").
        missing = db.execute("SELECT id FROM submissions WHERE state != 'superseded' AND id NOT IN"
                             " (SELECT submission_id FROM results)").fetchall()
        assert missing == []
        # The grader ran at most once per content of a question (reused verdicts say so).
        graded = db.execute(
            "SELECT s.question_id, s.sha256, COUNT(*) FROM submissions s JOIN results r"
            " ON r.submission_id = s.id WHERE r.payload_json NOT LIKE '%result is reused%'"
            " GROUP BY s.question_id, s.sha256 HAVING COUNT(*) > 1").fetchall()
        assert graded == [], graded
        for question in ("Q1", "Q2"):  # the file on disk now is what counts
            on_disk = db.execute(
                "SELECT sha256 FROM submissions WHERE session_id = ? AND question_id = ?"
                " AND state != 'superseded' ORDER BY id DESC LIMIT 1",
                (session, question)).fetchone()[0]
            assert on_disk == hashlib.sha256(
                (project / question / "mymodel.h5").read_bytes()).hexdigest()
        deadline = db.execute("SELECT deadline FROM sessions WHERE id = ?", (session,)).fetchone()
        assert iso(deadline[0]) == started["deadline"]
        # No snapshot folder leaked: each one left belongs to a submission.
        referenced = {Path(r[0]).parent for r in db.execute("SELECT snapshot_path FROM submissions")}
        on_disk = set((live.home / "sessions" / session / "snapshots").iterdir())
        assert on_disk <= referenced, on_disk - referenced
    finally:
        db.close()
