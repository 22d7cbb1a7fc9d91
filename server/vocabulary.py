"""Every state the service speaks of, in one place.

States used to be bare strings spread over the store, the sessions, the grader and the pages; a
typo in one of them was a silent bug. Here each family is a `StrEnum`: its members compare equal to
the strings already stored in SQLite and sent as JSON, so the wire format does not change, and a
misspelt state is an import error.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10 has no StrEnum
    class StrEnum(str, Enum):
        """str-valued members whose str() is the value (as Python 3.11's StrEnum)."""

        def __str__(self) -> str:
            return str(self.value)


class SessionState(StrEnum):
    RUNNING = "running"
    SUBMITTED = "submitted"


class SubmitReason(StrEnum):
    """Why a session ended."""

    LEARNER = "learner"
    DEADLINE = "deadline"


class SubmissionState(StrEnum):
    QUEUED = "queued"
    GRADING = "grading"
    GRADED = "graded"
    ERROR = "error"
    SUPERSEDED = "superseded"

    @property
    def pending(self) -> bool:
        return self in (SubmissionState.QUEUED, SubmissionState.GRADING)


PENDING_STATES = (SubmissionState.QUEUED, SubmissionState.GRADING)


class ResultStatus(StrEnum):
    """A Result's status: a verdict about the model, or a failure of tfexam's own."""

    GRADED = "graded"                  # evaluated; score from the metric
    CONTRACT_ERROR = "contract_error"  # loaded, but shapes or final activation differ
    REFUSED = "refused"                # Lambda layer or custom object: the grader will not run it
    LOAD_ERROR = "load_error"          # not a model file it can open
    EVALUATION_ERROR = "evaluation_error"
    TIMEOUT = "timeout"                # the model took longer than the time limit
    MEMORY = "memory"                  # the model needed more than the memory limit
    CRASH = "crash"                    # the grader process died (may be the model, may be us)
    INTERRUPTED = "interrupted"        # grading was cut off by a restart of tfexam
    INFRASTRUCTURE = "infrastructure"  # tfexam itself failed (disk full, database, sandbox)

    @property
    def is_verdict(self) -> bool:
        """True when the status says something about the model itself, so the same bytes would
        get the same status again and the result may be reused by content hash."""
        return self not in TFEXAM_FAILURES


# Failures that may be tfexam's own: never cached as the model's score, always graded again.
TFEXAM_FAILURES = frozenset({ResultStatus.CRASH, ResultStatus.INTERRUPTED,
                             ResultStatus.INFRASTRUCTURE})


def is_verdict(status: str) -> bool:
    """`ResultStatus(status).is_verdict` for a stored string; an unknown status is not reused."""
    try:
        return ResultStatus(status).is_verdict
    except ValueError:
        return False


class ModelFormat(StrEnum):
    H5 = "h5"
    KERAS = "keras"
    SAVEDMODEL = "savedmodel"


class Trigger(StrEnum):
    """What made tfexam take a model file."""

    SAVE = "save"                  # the watcher saw the save while running
    BUTTON = "button"              # Submit and Test
    STARTUP_SCAN = "startup-scan"  # found at start-up (changed while the service was down)
    FINAL_SCAN = "final-scan"      # found when the session was submitted
    RESCAN = "rescan"              # found when a missing project folder came back


class ProjectState(StrEnum):
    """Whether a session's project folder is where the session says (status field "project")."""

    OK = "ok"
    MISSING = "missing"


class ComponentState(StrEnum):
    """How a part of the service is doing, as /api/health reports it."""

    OK = "ok"
    STARTING = "starting"
    DEGRADED = "degraded"  # working, but the last attempt failed and is being retried
    FAILED = "failed"
    STOPPED = "stopped"
