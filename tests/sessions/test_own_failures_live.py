"""tfexam's own failures are not the model's. The grading child killed with SIGKILL in the middle
of grading a valid model is retried and the model gets its real grade. When every grading process
is killed at once (the retries can run out), the result says tfexam failed, is never reused for
the same content, and Submit and Test on the same file grades it again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.support import models
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def _job_dir(process: psutil.Process) -> Path | None:
    """The job folder a sandbox was started with (bwrap's `--ro-bind DIR /job`)."""
    try:
        argv = process.cmdline()
    except psutil.Error:
        return None
    for i, arg in enumerate(argv[:-2]):
        if arg == "--ro-bind" and argv[i + 2] == "/job":
            return Path(argv[i + 1])
    return None


def _kill_grading(live: LiveServer, only_the_grading_one: bool) -> int:
    """SIGKILL the service's grading processes: only the sandbox holding the model being graded,
    or every one of them (the warm ones waiting for the next job too)."""
    assert live.process is not None
    children = psutil.Process(live.process.pid).children(recursive=True)
    if only_the_grading_one:
        busy = [c for c in children if (job := _job_dir(c)) is not None
                and any(job.rglob("*.h5"))]
        assert busy, [c.cmdline()[:3] for c in children]
        children = [p for b in busy for p in (b, *b.children(recursive=True))]
    killed = 0
    for child in children:
        try:
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def _grade_slow_model(live: LiveServer, session: str, project: Path, steps: int) -> None:
    models.save(models.slow_model(steps=steps), project / "Q2" / "mymodel.h5")
    live.wait_for(session, lambda s: live.question(s, "Q2")["state"] == "grading",
                  timeout=120, poll=0.05)
    time.sleep(0.5)


def _settled(live: LiveServer, session: str) -> dict:
    status = live.wait_for(session, lambda s: live.question(s, "Q2")["state"] in (
        "graded", "error") and not s["grading_pending"], timeout=240)
    return live.question(status, "Q2")


def test_a_worker_killed_mid_grading_does_not_cost_the_model(tmp_path: Path,
                                                             keras_home: Path) -> None:
    live = LiveServer(tmp_path / "home").start(wait_worker=True, timeout=240)
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session, project = started["session"], Path(started["project_dir"])

        _grade_slow_model(live, session, project, 20000)
        assert _kill_grading(live, only_the_grading_one=True) >= 1
        q2 = _settled(live, session)
        assert q2["state"] == "graded" and q2["submissions"] == 1, q2  # retried, real grade
        assert "trying again" in live.log_path.read_text()  # the kill did cut a grading off
        history = live.get(f"/api/sessions/{session}/report")["questions"][1]["history"]
        again = live.post(f"/api/sessions/{session}/questions/Q2/submit").json()
        assert again["submission"] == history[-1]["submission"]  # a verdict stands

        live.wait_worker()
        _grade_slow_model(live, session, project, 21000)  # other bytes: graded afresh
        _kill_grading(live, only_the_grading_one=False)  # every grading process at once
        q2 = _settled(live, session)
        history = live.get(f"/api/sessions/{session}/report")["questions"][1]["history"]
        if history[-1]["status"] != "graded":  # the retries ran out: tfexam's failure
            assert history[-1]["status"] in ("crash", "infrastructure", "interrupted")
            assert q2["message"].startswith("tfexam could not grade this")
            live.wait_worker()
            again = live.post(f"/api/sessions/{session}/questions/Q2/submit").json()
            assert again["submission"] != history[-1]["submission"]  # never the cached failure
            q2 = _settled(live, session)
        assert q2["state"] == "graded", q2
    finally:
        live.stop()
