"""Issue 2's promises against a real service on a loopback port with a real SQLite file."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from tests.support.live_server import LiveServer


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_sweeper_submits_within_one_second_of_the_deadline(server: LiveServer, tmp_path: Path):
    started = server.start_session(tmp_path / "ws", minutes=0.1)
    deadline = _ts(started["deadline"])
    status = server.wait_for(started["session"], lambda s: s["state"] == "submitted", timeout=20,
                             poll=0.05)
    seen_at = time.time()
    assert seen_at - deadline < 1.0 + 0.1  # the sweep, plus one poll of this test
    assert status["submit_reason"] == "deadline"
    assert abs(_ts(status["submitted_at"]) - deadline) < 1.0
    assert status["remaining_seconds"] == 0


def test_kill_nine_and_restart_keep_the_clock(tmp_path: Path, keras_home: Path) -> None:
    live = LiveServer(tmp_path / "home").start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        before = live.get(f"/api/sessions/{started['session']}")
        live.kill9()
        time.sleep(1.0)
        live.start()
        asked = time.time()
        after = live.get(f"/api/sessions/{started['session']}")
        answered = time.time()
        assert after["deadline"] == before["deadline"] == started["deadline"]
        assert after["state"] == "running"
        # The service's clock read between the question and the answer, however slow the answer.
        deadline = _ts(started["deadline"])
        assert deadline - answered - 0.01 <= after["remaining_seconds"] <= deadline - asked + 0.01
    finally:
        live.stop()


def test_deadline_passed_while_down_is_submitted_at_start_up(tmp_path: Path, keras_home: Path):
    live = LiveServer(tmp_path / "home").start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=0.05)
        live.kill9()
        time.sleep(4.0)  # the 3 s deadline passes while the service is down
        live.start()
        status = live.get(f"/api/sessions/{started['session']}")  # first request after start-up
        assert status["state"] == "submitted"
        assert status["submit_reason"] == "deadline"
        assert status["submitted_at"] == started["deadline"]
    finally:
        live.stop()


def test_finishing_twice_is_harmless(server: LiveServer, tmp_path: Path) -> None:
    started = server.start_session(tmp_path / "ws", minutes=5)
    first = server.post(f"/api/sessions/{started['session']}/finish")
    second = server.post(f"/api/sessions/{started['session']}/finish")
    assert first.status_code == second.status_code == 200
    assert first.json()["submitted_at"] == second.json()["submitted_at"]
    assert second.json()["state"] == "submitted"
    assert second.json()["passed"] is False  # nothing saved: every question scores 0
