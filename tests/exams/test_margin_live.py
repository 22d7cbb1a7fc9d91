"""Through a real service: a graded classification carries its 95 % interval and borderline flag
in the session status (contract 4), the report JSON and the report page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support import models
from tests.support.live_server import LiveServer, settled_question

pytestmark = pytest.mark.slow


def test_interval_reaches_status_and_report(server: LiveServer, tmp_path: Path) -> None:
    started = server.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    models.save(models.blobs_model(), project / "Q2" / "mymodel.h5")
    q2 = settled_question(server, session, "Q2", 1, timeout=180)
    assert q2["state"] == "graded", q2
    low, high = q2["interval"]
    assert 0.0 <= low <= high <= 1.0 and isinstance(q2["borderline"], bool)
    assert q2["warnings"] == []
    assert "95 % interval" in q2["message"]
    report = server.get(f"/api/sessions/{session}/report")
    counted = next(q for q in report["questions"] if q["id"] == "Q2")
    assert counted["interval"] == [low, high]
    cookie = server.cookie()
    page = httpx.get(f"{server.url}/sessions/{session}/report.html",
                     cookies={cookie["name"]: cookie["value"]}, headers=server.headers, timeout=30)
    assert page.status_code == 200 and 'data-testid="interval-Q2"' in page.text
