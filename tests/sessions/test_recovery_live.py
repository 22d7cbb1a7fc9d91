"""Files changed while the service was down count only when the whole downtime ended before the
deadline (then they were provably saved in time). When the service comes back after the
deadline, the last submission recorded before the downtime counts, whatever the new file's mtime
claims, and the status and the report say why the newer file did not."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_a_downtime_that_ends_before_the_deadline_counts(tmp_path: Path, keras_home: Path):
    line = models.line_model()
    live = LiveServer(tmp_path / "home").start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=10)
        project = Path(started["project_dir"])
        live.kill9()
        models.save(line, project / "Q1" / "mymodel.h5")  # saved while the service is down
        os.utime(project / "Q1" / "mymodel.h5", (4_000_000_000, 4_000_000_000))  # any mtime
        live.start()
        status = live.wait_for(started["session"],
                               lambda s: live.question(s, "Q1")["score"] is not None, timeout=120)
        assert live.question(status, "Q1")["score"] == 5
    finally:
        live.stop()


def test_backdated_work_from_a_downtime_past_the_deadline_does_not_count(tmp_path: Path,
                                                                          keras_home: Path):
    untrained, trained = models.line_model(trained=False), models.line_model(trained=True)
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=180)
    try:
        started = live.start_session(tmp_path / "ws", minutes=0.5)
        project = Path(started["project_dir"])
        models.save(untrained, project / "Q1" / "mymodel.h5")
        status = live.wait_for(started["session"],
                               lambda s: live.question(s, "Q1")["score"] is not None, timeout=25)
        first_score = live.question(status, "Q1")["score"]
        assert first_score < 5
        live.kill9()
        deadline = datetime.fromisoformat(started["deadline"].replace("Z", "+00:00")).timestamp()
        time.sleep(max(0.0, deadline - time.time()) + 1.0)
        models.save(trained, project / "Q1" / "mymodel.h5")  # after the deadline, service down
        past = time.time() - 3600
        os.utime(project / "Q1" / "mymodel.h5", (past, past))  # ... and backdated
        live.start()
        status = live.wait_for(started["session"], lambda s: s["state"] == "submitted"
                               and not s["grading_pending"], timeout=60)
        q1 = live.question(status, "Q1")
        assert q1["score"] == first_score and q1["submissions"] == 1
        assert "changed while tfexam was not running" in q1["note"]
        assert "ended after the deadline" in q1["message"]
        report = live.get(f"/api/sessions/{started['session']}/report")
        q1_report = next(q for q in report["questions"] if q["id"] == "Q1")
        assert any("cannot be shown to have been saved in time" in m for m in q1_report["messages"])
    finally:
        live.stop()
