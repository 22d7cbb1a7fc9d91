"""Grading outside the service (calibration, benchmarks, tests): the same sandbox pool and trusted
scorer the supervisor uses, with a scratch folder of its own."""

from __future__ import annotations

import atexit
import tempfile
import threading
from pathlib import Path

from server.grading.confinement import sandbox
from server.grading.confinement.pool import SandboxPool
from server.grading.confinement.sandbox import SandboxLimits
from server.grading.trusted.result import Outcome
from server.grading.trusted.scorer import GradingJob, grade_in_pool


class LocalGrader:
    def __init__(self, scratch: Path, limits: SandboxLimits | None = None,
                 mode: str | None = None, warm: int = 1) -> None:
        self.scratch = scratch
        self.limits = limits or SandboxLimits()
        self.plan = sandbox.plan(scratch, mode)
        self.pool = SandboxPool(self.plan, self.limits, scratch / "sandbox", scratch / "worker.log",
                                 size=warm)
        self.pool.start()

    def grade(self, job: GradingJob) -> Outcome:
        return grade_in_pool(self.pool, job, self.limits)

    def close(self) -> None:
        self.pool.stop()


_shared: LocalGrader | None = None
_lock = threading.Lock()


def shared_grader() -> LocalGrader:
    """One warm grader per process, stopped at exit."""
    global _shared
    with _lock:
        if _shared is None:
            scratch = Path(tempfile.mkdtemp(prefix="tfexam-grader-"))
            _shared = LocalGrader(scratch)
            atexit.register(_shared.close)
        return _shared
