"""A job past its time limit: the model's (it used the CPU) or tfexam's own (the process was
stopped, or hardly ran). Real sandboxes with a small program in place of the grading child (no
TensorFlow): it says ready, then spins, sleeps, or is stopped with SIGSTOP (issue 17)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from server.grading.confinement import sandbox
from server.grading.confinement.sandbox import SandboxFailure, SandboxLimits, new_sandbox
from server.grading.protocol import LoadRequest, Ready
from server.grading.trusted.result import Outcome
from server.grading.trusted.scorer import outcome_of_failure
from server.vocabulary import ResultStatus

CHILD = """
import os, socket, sys, time
from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
apply(spec)
channel = socket.socket(fileno=spec.channel_fd)
channel.sendall(protocol.encode(protocol.Ready(import_seconds=0.0, versions={}, confinement={})))
channel.recv(65536)  # the job's first request
ends = time.monotonic() + 60
if sys.argv[1] == "spin":
    while time.monotonic() < ends:
        pass
else:
    time.sleep(60)
"""
JOB_SECONDS = 4.0


def _ended(tmp_path: Path, how: str) -> SandboxFailure:
    try:
        plan = sandbox.plan(tmp_path / "scratch")
    except RuntimeError as why:
        pytest.skip(str(why))
    limits = SandboxLimits(job_seconds=JOB_SECONDS, start_seconds=120)
    box = new_sandbox(plan, limits, tmp_path / "boxes", tmp_path / "log",
                      command=[sys.executable, "-c", CHILD, how])
    try:
        assert box.start() is None
        assert isinstance(box.wait_ready(), Ready), (tmp_path / "log").read_text()[-2000:]
        assert box.send(LoadRequest(nonce="n" * 32, model="mymodel.h5", format="h5")) is None
        if how == "stop":
            time.sleep(0.5)
            for process in box._processes():
                os.kill(process.pid, signal.SIGSTOP)
        reply = box.receive(time.monotonic() + JOB_SECONDS)
        assert isinstance(reply, SandboxFailure), reply
        return reply
    finally:
        box.destroy()


def test_a_model_that_uses_the_cpu_meets_the_time_limit(tmp_path: Path) -> None:
    ended = _ended(tmp_path, "spin")
    assert ended.kind == "timeout" and ended.limit
    outcome = outcome_of_failure(ended, SandboxLimits(job_seconds=JOB_SECONDS))
    assert outcome.status == ResultStatus.TIMEOUT and not outcome.retry


@pytest.mark.parametrize("how", ["stop", "sleep"])
def test_a_process_that_did_not_run_is_tfexams_failure(tmp_path: Path, how: str) -> None:
    ended = _ended(tmp_path, how)
    assert ended.kind == "stalled" and not ended.limit, ended
    assert ("was stopped" if how == "stop" else "hardly ran") in ended.detail
    outcome: Outcome = outcome_of_failure(ended, SandboxLimits(job_seconds=JOB_SECONDS))
    assert outcome.retry and outcome.status == ResultStatus.INFRASTRUCTURE
    assert not ResultStatus(outcome.status).is_verdict  # never reused for the same bytes
    assert "smaller" not in " ".join(outcome.messages)
