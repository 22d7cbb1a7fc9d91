"""The system clock jumps under a running service (libfaketime moves the wall clock the service
process sees) and time left moves by the seconds that really passed, not by the jump; across a
restart with the wall clock set back, time left does not grow.

libfaketime fakes CLOCK_MONOTONIC (and BOOTTIME) too by default, shifting them by the same offset
as the wall. A real change of the system clock (date -s, an NTP step) moves only CLOCK_REALTIME,
so the tests set FAKETIME_DONT_FAKE_MONOTONIC=1 to move what a real change moves and nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

LIBFAKETIME = next((p for p in (Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/faketime/libfaketime.so.1")) if p.exists()), None)
pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is not installed "
                                "(Debian package faketime)")


def _faked(control: Path) -> dict[str, str]:
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(control),
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def _remaining(live: LiveServer, session: str) -> tuple[float, float]:
    """(time left, the test's monotonic time when it was read)."""
    status = live.get(f"/api/sessions/{session}")
    return status["remaining_seconds"], time.monotonic()


def test_a_system_clock_jump_does_not_move_time_left(tmp_path: Path, keras_home: Path) -> None:
    control = tmp_path / "faketime"
    control.write_text("+0\n")
    live = LiveServer(tmp_path / "home", env=_faked(control)).start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=10)
        session = started["session"]
        for jump in ("+1h", "-1h", "+0"):
            before, at = _remaining(live, session)
            control.write_text(f"{jump}\n")
            time.sleep(1.0)
            health = live.get("/api/health")
            after, then = _remaining(live, session)
            real = then - at
            expected_skew = {"+1h": 3600, "-1h": -3600, "+0": 0}[jump]
            # The service process really saw the jump ...
            assert health["clock"]["skew_seconds"] == pytest.approx(expected_skew, abs=5)
            # ... and time left moved by what really passed (under 2 s off), not by an hour.
            assert abs((before - after) - real) < 2.0, (jump, before, after, real)
            status = live.get(f"/api/sessions/{session}")
            assert status["state"] == "running"
    finally:
        live.stop()


def test_time_left_never_grows_across_a_restart(tmp_path: Path, keras_home: Path) -> None:
    control = tmp_path / "faketime"
    control.write_text("+0\n")
    live = LiveServer(tmp_path / "home", env=_faked(control)).start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=10)
        session = started["session"]
        time.sleep(1.5)  # at least one heartbeat
        before, _ = _remaining(live, session)
        live.kill9()
        control.write_text("-1h\n")  # the clock set back an hour while the service was down
        live.start()
        after, _ = _remaining(live, session)
        assert after <= before, (before, after)
        assert live.get(f"/api/sessions/{session}")["deadline"] == started["deadline"]

        live.kill9()
        control.write_text("+1h\n")  # forward an hour while down: the 10 minutes are over
        live.start()
        status = live.get(f"/api/sessions/{session}")
        assert status["state"] == "submitted" and status["submit_reason"] == "deadline"
        assert status["submitted_at"] == started["deadline"]
    finally:
        live.stop()
