"""A deadline that passes while the service is down: at start-up the session is submitted, and of
the files saved meanwhile only those saved before the deadline are graded and counted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_files_saved_while_down_count_only_before_the_deadline(tmp_path: Path, keras_home: Path):
    line, blobs = models.line_model(), models.blobs_model()  # built before the clock matters
    live = LiveServer(tmp_path / "home").start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=0.1)
        project = Path(started["project_dir"])
        live.kill9()
        models.save(line, project / "Q1" / "mymodel.h5")  # in time, service down
        live_deadline = time.time() + started["remaining_seconds"]
        time.sleep(max(0.0, live_deadline - time.time()) + 1.0)
        models.save(blobs, project / "Q2" / "mymodel.h5")  # too late
        live.start()
        status = live.wait_for(started["session"], lambda s: not s["grading_pending"]
                               and s["state"] == "submitted", timeout=120)
        q1, q2 = live.question(status, "Q1"), live.question(status, "Q2")
        assert q1["score"] == 5 and q1["submissions"] == 1
        assert q2["state"] == "none" and q2["score"] is None
        assert status["passed"] is False
        assert status["total"] == pytest.approx(100 * 5 / 15, abs=0.01)
    finally:
        live.stop()
