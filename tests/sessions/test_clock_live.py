"""The system clock jumps under a running service (libfaketime moves the wall clock the service
process sees) and time left moves by the seconds that really passed, not by the jump. Across a
restart in the same boot the downtime costs exactly the real time that passed, whichever way the
wall clock was moved meanwhile (issue 17): the heartbeat's CLOCK_BOOTTIME measures it. How
libfaketime is set up, and why, is in tests/support/faketime.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import models
from tests.support.faketime import LIBFAKETIME, faked_env
from tests.support.live_server import LiveServer
from tests.support.timing import spent

pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is not installed "
                                "(Debian package faketime)")


def _faked(control: Path) -> dict[str, str]:
    return faked_env(control)


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


def _down_for(live: LiveServer, control: Path, jump: str, seconds: float) -> float:
    """Kill the service, move its wall clock by `jump`, stay down `seconds`, start it again;
    returns the real seconds from the kill to the first answer."""
    time.sleep(1.5)  # at least one heartbeat since the last look
    killed = time.monotonic()
    live.kill9()
    control.write_text(f"{jump}\n")
    with spent("polling"):
        time.sleep(seconds)
    live.start()
    return time.monotonic() - killed


@pytest.mark.parametrize("jump", ["-1h", "+1h"])
def test_a_downtime_costs_the_real_time_whatever_the_wall_clock_says(
        tmp_path: Path, keras_home: Path, jump: str) -> None:
    control = tmp_path / "faketime"
    control.write_text("+0\n")
    live = LiveServer(tmp_path / "home", env=_faked(control)).start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=10)
        session = started["session"]
        before, at = _remaining(live, session)
        _down_for(live, control, jump, 6.0)
        after, then = _remaining(live, session)
        real = then - at
        status = live.get(f"/api/sessions/{session}")
        assert status["state"] == "running", status  # a forward jump does not end the exam
        assert status["deadline"] == started["deadline"]
        # Time left shrank by what really passed (within 2 s: a heartbeat and the reads), not
        # by an hour and not by a beat: the downtime never pauses the exam.
        assert abs((before - after) - real) < 2.0, (jump, before, after, real)
        restart = live.get("/api/health")["clock"]["last_restart"]
        assert restart["how"] == "same boot" and restart["exact"], restart
        assert restart["downtime_seconds"] >= 6.0, restart
    finally:
        live.stop()


def test_a_deadline_that_passed_during_a_downtime_with_the_clock_set_back(
        tmp_path: Path, keras_home: Path) -> None:
    """The issue's case: the wall clock set back an hour while the service was down past the
    real deadline. The exam is over when it comes back, and a file saved after the real
    deadline is not taken."""
    control = tmp_path / "faketime"
    control.write_text("+0\n")
    line = models.line_model()
    live = LiveServer(tmp_path / "home", env=_faked(control)).start()
    try:
        started = live.start_session(tmp_path / "ws", minutes=0.25)
        session, project = started["session"], Path(started["project_dir"])
        left, _ = _remaining(live, session)
        _down_for(live, control, "-1h", left + 2.0)  # down until past the real deadline
        status = live.get(f"/api/sessions/{session}")
        assert status["state"] == "submitted", status
        assert status["submit_reason"] == "deadline"
        assert status["submitted_at"] == started["deadline"]
        models.save(line, project / "Q1" / "mymodel.h5")  # saved after the real deadline
        with spent("polling"):
            time.sleep(3.0)  # several settle periods: a watched save would be taken by now
        status = live.get(f"/api/sessions/{session}")
        assert live.question(status, "Q1")["submissions"] == 0, status
    finally:
        live.stop()
