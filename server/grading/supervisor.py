"""The grading loop on the service's side: claim the next queued submission, have the warm worker
grade it, store the Result (which announces it), and keep a worker alive at all times.

The queue is the `submissions` table, so a service killed mid-job loses nothing: at start-up the
job that was grading is queued again (PrairieLearn's `grading_needed`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from server.clock import Clock
from server.config import Settings
from server.grading.protocol import job_message
from server.grading.result import Result
from server.grading.scoring import describe_bands
from server.grading.worker_process import WorkerFailure, WorkerProcess
from server.store import Store
from server.store.records import QuestionRecord, SubmissionRecord

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RESTART_BACKOFF = 5.0
# The worker's TensorFlow import takes both cores for seconds; the API answers first.
FIRST_START_DELAY = 1.0


def failure_messages(failure: WorkerFailure, settings: Settings) -> list[str]:
    if failure.kind == "timeout":
        return [
            f"Grading stopped at the time limit ({settings.job_time_limit:g} s): loading the model "
            "and predicting on the held-out data took longer. Make the model smaller (fewer or "
            "narrower layers), save and submit again.",
        ]
    if failure.kind == "memory":
        return [
            f"Grading stopped at the memory limit ({settings.job_memory_limit_mb:g} MB; "
            f"{failure.detail}). Make the model smaller (fewer parameters or smaller layers), save "
            "and submit again.",
        ]
    return [
        f"The grader process stopped while grading this model ({failure.detail}); it was "
        "restarted and this submission scores 0. Save the model again and submit; if it happens "
        "again, rebuild the model with standard layers.",
    ]


class GradingSupervisor:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.worker = WorkerProcess(settings.home / "logs" / "worker.log")
        self.state = "stopped"
        self.current: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("grading again after a restart: submissions %s", requeued)
        self._thread = threading.Thread(target=self._run, name="grading", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.worker.pid,
            "starts": self.worker.starts,
            "grading": self.current,
            "queued": self.store.queue_length(),
            "versions": self.worker.info.get("versions", {}),
            "import_seconds": self.worker.info.get("import_seconds"),
        }

    def _ensure_worker(self) -> bool:
        if self.worker.alive and self.state in ("ready", "busy"):
            return True
        self.worker.kill()
        self.state = "starting"
        self.worker.start()
        if self.worker.wait_ready():
            self.state = "ready"
            log.info("grading worker ready (pid %s)", self.worker.pid)
            return True
        self.state = "failed"
        self.worker.kill()
        log.error("the grading worker did not start; see %s", self.worker.log_path)
        return False

    def _run(self) -> None:
        self._stop.wait(FIRST_START_DELAY)
        while not self._stop.is_set():
            try:
                if not self._ensure_worker():
                    self._stop.wait(RESTART_BACKOFF)
                    continue
                job = self.store.claim_next_job(self.clock.now())
                if job is None:
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                self._grade(job)
            except Exception:  # the loop must survive anything one job does
                log.exception("grading loop error")
                time.sleep(0.5)

    def _grade(self, sub: SubmissionRecord) -> None:
        question = self.store.question(sub.session_id, sub.question_id)
        assert question is not None
        started = time.perf_counter()
        self.current, self.state = sub.id, "busy"
        if sub.attempts > MAX_ATTEMPTS:
            outcome: dict[str, Any] | WorkerFailure = WorkerFailure(
                "crash", f"given up after {MAX_ATTEMPTS} attempts")
        else:
            outcome = self.worker.run(
                job_message(sub, question),
                self.settings.job_time_limit,
                self.settings.job_memory_limit_mb,
            )
        self.current, self.state = None, "ready"
        if isinstance(outcome, WorkerFailure):
            log.warning("submission %s: worker %s (%s)", sub.id, outcome.kind, outcome.detail)
            self.worker.kill()
            self.state = "restarting"
            outcome = {
                "status": outcome.kind, "score": 0, "messages": failure_messages(
                    outcome, self.settings), "peak_memory_mb": round(outcome.peak_mb, 1)}
        result = build_result(sub, question, outcome, time.perf_counter() - started)
        self.store.save_result(sub.id, result.status, result.score,
                               result.model_dump(mode="json"), self.clock.now())

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.worker.stop()


def build_result(sub: SubmissionRecord, question: QuestionRecord, outcome: dict[str, Any],
                 duration: float) -> Result:
    variant = question.variant
    timings = dict(outcome.get("timings") or {})
    if outcome.get("peak_memory_mb"):
        timings["peak_memory_mb"] = outcome["peak_memory_mb"]
    return Result(
        session=sub.session_id,
        question=sub.question_id,
        submission=sub.id,
        status=outcome["status"],
        score=int(outcome.get("score") or 0),
        metric=variant["metric"],
        value=outcome.get("value"),
        bands=describe_bands(variant["metric"], variant["scoring"]),
        messages=list(outcome.get("messages") or []),
        sha256=sub.sha256,
        format=sub.format,
        size_bytes=sub.size_bytes,
        source_path=sub.source_path,
        saved_at=sub.saved_at,
        keras=outcome.get("keras"),
        duration_seconds=round(duration, 3),
        model=outcome.get("model") or {},
        diagnostics=outcome.get("diagnostics") or {},
        timings={k: round(float(v), 3) for k, v in timings.items()},
    )
