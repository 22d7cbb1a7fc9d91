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
        after = live.get(f"/api/sessions/{started['session']}")
        assert after["deadline"] == before["deadline"] == started["deadline"]
        assert after["state"] == "running"
        expected = _ts(started["deadline"]) - time.time()
        assert abs(after["remaining_seconds"] - expected) < 1.0
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


def test_bad_requests_get_a_sentence_not_a_500(server: LiveServer, tmp_path: Path) -> None:
    unknown = server.post("/api/sessions", {"exam": "nope", "workspace": str(tmp_path / "a")})
    assert unknown.status_code == 404
    assert "no exam called 'nope'" in unknown.json()["detail"]

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    taken = server.post("/api/sessions", {"exam": "smoke", "workspace": str(busy)})
    assert taken.status_code == 409 and "not empty" in taken.json()["detail"]

    import httpx

    broken = httpx.post(server.url + "/api/sessions", content=b'{"exam": "smoke", ',
                        headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]

    missing = server.post("/api/sessions", {"exam": "smoke"})
    assert missing.status_code == 422 and "'workspace' is required" in missing.json()["detail"]

    negative = server.post("/api/sessions", {"exam": "smoke", "workspace": str(tmp_path / "b"),
                                             "minutes": -1})
    assert negative.status_code == 422 and negative.json()["detail"].endswith(".")

    nobody = httpx.get(server.url + "/api/sessions/doesnotexist")
    assert nobody.status_code == 404 and "no session" in nobody.json()["detail"]


def test_foreign_host_and_cross_origin_writes_are_refused(server: LiveServer, tmp_path: Path):
    import httpx

    rebinding = httpx.get(server.url + "/api/exams", headers={"host": "evil.example:80"})
    assert rebinding.status_code == 403
    cross = httpx.post(server.url + "/api/sessions", headers={"origin": "http://evil.example"},
                       json={"exam": "smoke", "workspace": str(tmp_path / "ws")})
    assert cross.status_code == 403
    assert not (tmp_path / "ws").exists()
    assert httpx.get(server.url + "/docs").status_code == 200
