"""The grading loop on the service's side: claim the next queued submission, grade it in a fresh
warm sandbox with the trusted scorer, store the Result (which announces it).

The queue is the `submissions` table, so a service killed mid-job loses nothing: at start-up the
job that was grading is queued again (PrairieLearn's `grading_needed`). tfexam's own failures (a
sandbox that does not start, a child that dies without hitting a limit, a full disk) are retried
automatically, each time in a new sandbox; after the last try the Result says "tfexam could not
grade this", with a status that is never reused by content hash. A job past its time limit that
hardly used the CPU (a stopped or starved process) is such a failure too, not a timeout.

No claimed job is left "grading" with nobody grading it (issue 17): an internal error once a job
is claimed queues it again at once (after a few such errors it is stored as tfexam's failure), and
a watchdog thread queues again any claimed job that no live grading thread holds and starts a new
grading thread if the old one died. Health lists what is stuck and what was queued again, and why.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from server.clock import Clock
from server.config import Settings
from server.grading.confinement import sandbox as sandbox_module
from server.grading.confinement.pool import SandboxPool
from server.grading.confinement.sandbox import Isolation, Plan, SandboxLimits
from server.grading.trusted.result import TFEXAM_COULD_NOT, Outcome, Result
from server.grading.trusted.scorer import GradingJob, grade_in_pool
from server.grading.trusted.scoring import describe_bands
from server.sessions import snapshots
from server.store import Store
from server.store.records import QuestionRecord, SubmissionRecord
from server.vocabulary import ResultStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3        # claims of one submission across restarts of the service
RETRIES = 2             # extra tries, within one claim, of a failure of tfexam's own
# Pause before try N+1 (N seconds times this): a burst that killed every grading process (or a stop
# of the service) must not spend all tries within a blink on sandboxes that are already dead.
RETRY_PAUSE = 1.0
STORE_RETRY_FIRST = 0.5  # seconds before storing a result is tried again; doubles up to
STORE_RETRY_MOST = 5.0
# The first sandbox's TensorFlow import takes both cores for seconds; the API answers first.
FIRST_START_DELAY = 1.0
WATCHDOG_SECONDS = 1.0   # how often claimed jobs are checked against the thread that holds them
ORPHAN_GRACE = 2.0       # a claim this young may not be held yet (claim, then hold): left alone
INTERNAL_ERROR_PAUSE = 2.0  # seconds times the claims so far before the queue is read again
REQUEUED_KEPT = 10       # requeues health remembers


@dataclass(frozen=True)
class Requeued:
    submission: int
    question: str
    why: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"submission": self.submission, "question": self.question, "why": self.why,
                "at": round(self.at, 3)}

_isolation: Isolation | None = None


def current_isolation() -> dict[str, Any] | None:
    """How model files are confined in this service (None before grading was set up)."""
    return _isolation.model_dump() if _isolation else None


def limits_of(settings: Settings) -> SandboxLimits:
    return SandboxLimits(job_seconds=settings.job_time_limit,
                         memory_mb=settings.job_memory_limit_mb)


class GradingSupervisor:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.limits = limits_of(settings)
        self.root = settings.home / "sandbox"
        self.plan: Plan | None = None
        self.pool: SandboxPool | None = None
        self.state = "stopped"
        self.current: int | None = None
        self.store_error: str | None = None
        self.setup_error: str | None = None
        self.internal_error: str | None = None  # the last one, for health
        # The job the grading thread holds, from its claim until its result is stored (or it is
        # queued again): the watchdog queues again any other claimed job.
        self._held: int | None = None
        self._held_since: float = 0.0  # monotonic
        self.requeued: deque[Requeued] = deque(maxlen=REQUEUED_KEPT)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grader: threading.Thread | None = None  # the thread running `_run`
        self._watchdog: threading.Thread | None = None
        self.thread_restarts = 0

    @property
    def isolation(self) -> Isolation | None:
        return self.plan.isolation if self.plan else None

    def start(self) -> None:
        """Queue interrupted jobs again, then set grading up beside the service: deciding how to
        confine (a bubblewrap probe) and removing a killed service's leftovers take a moment, and
        the API answers meanwhile; health says "starting" until a sandbox is ready."""
        self.root.mkdir(parents=True, exist_ok=True)
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("grading again after a restart: submissions %s", requeued)
        self.state = "starting"
        self._thread = threading.Thread(target=self._set_up_then_run, name="grading", daemon=True)
        self._thread.start()

    def _set_up_then_run(self) -> None:
        global _isolation
        try:
            plan = sandbox_module.plan(self.root)
        except RuntimeError as error:  # TFEXAM_SANDBOX=bwrap where bubblewrap cannot run
            self.setup_error = str(error)
            log.error("grading cannot start: %s", error)
            return
        if self._stop.is_set():
            return
        self.plan = plan
        _isolation = plan.isolation
        if plan.isolation.sandboxed:
            log.info("model files are graded in a sandbox: %s", plan.isolation.how)
        else:
            log.warning("%s", plan.isolation.warning)
        self.pool = SandboxPool(plan, self.limits, self.root,
                                self.settings.home / "logs" / "worker.log",
                                size=max(1, self.settings.warm_sandboxes
                                         or (1 if plan.kind == "bwrap" else 2)))
        self.pool.start(FIRST_START_DELAY)
        self._grader = threading.current_thread()
        self._watchdog = threading.Thread(target=self._watch, name="grading-watchdog",
                                          daemon=True)
        self._watchdog.start()
        self._run()

    def notify(self) -> None:
        self._wake.set()

    def health(self) -> dict[str, Any]:
        pool = self.pool
        state = self.state
        if state not in ("busy", "stopped") and pool is not None:
            state = "ready" if pool.ready_count else (
                "failed" if pool.last_failure else "starting")
        elif self.setup_error:
            state = "failed"
        return {
            "state": state,
            "pid": pool.warm_pid if pool else None,
            "starts": pool.starts if pool else 0,
            "grading": self.current,
            "queued": self.store.queue_length(),
            "versions": pool.info.get("versions", {}) if pool else {},
            "import_seconds": pool.info.get("import_seconds") if pool else None,
            "confinement": pool.info.get("confinement") if pool else None,
            "last_failure": (pool.last_failure.detail if pool and pool.last_failure else
                             self.setup_error),
            # A database error of the grading thread (claiming a job or storing a result),
            # while it lasts: the thread retries, so this clears itself.
            "store_error": self.store_error,
            "internal_error": self.internal_error,
            "stuck": self.stuck(),
            "requeued": [r.as_dict() for r in list(self.requeued)],
            "thread_restarts": self.thread_restarts,
        }

    def lease_seconds(self) -> float:
        """How long one claim may take at most: every try's start-up and time limit, and the
        pauses between them, with a minute to spare."""
        tries = RETRIES + 1
        return (tries * (self.limits.job_seconds + self.limits.start_seconds)
                + RETRY_PAUSE * tries * (tries - 1) / 2 + 60.0)

    def stuck(self) -> list[dict[str, Any]]:
        """Claimed jobs nobody is grading (the watchdog queues them again within seconds), and a
        held job past its lease (its thread is alive but has not come back)."""
        found = []
        held, since = self._held, self._held_since
        try:
            jobs = self.store.grading_jobs()
        except (sqlite3.Error, OSError):
            return []
        for job in jobs:
            if job.grading_started_at is None:
                continue  # a refusal being written: not the grader's
            if job.id != held:
                found.append({"submission": job.id, "question": job.question_id,
                              "why": "claimed, but no grading thread holds it"})
            elif time.monotonic() - since > self.lease_seconds():
                found.append({"submission": job.id, "question": job.question_id,
                              "why": f"grading for {time.monotonic() - since:.0f} s, longer "
                                     f"than any job may take ({self.lease_seconds():.0f} s)"})
        if self._grader is not None and not self._grader.is_alive() and not self._stop.is_set():
            found.append({"submission": held, "question": None,
                          "why": "the grading thread is gone"})
        return found

    def _watch(self) -> None:
        """Every second: a dead grading thread is replaced, and a claimed job that no live
        thread holds is queued again."""
        while not self._stop.wait(WATCHDOG_SECONDS):
            try:
                self._watch_once()
            except Exception:  # the watchdog outlives anything it meets
                log.exception("grading watchdog error")

    def _watch_once(self) -> None:
        grader = self._grader
        if grader is not None and not grader.is_alive() and not self._stop.is_set():
            log.error("the grading thread is gone; starting a new one")
            self._held = None
            self.thread_restarts += 1
            self._grader = threading.Thread(target=self._run, name="grading", daemon=True)
            self._grader.start()
        held = self._held
        now = self.clock.now()
        for job in self.store.grading_jobs():
            if (job.id == held or job.grading_started_at is None
                    or now - job.grading_started_at < ORPHAN_GRACE):
                continue
            self._requeue(job, "claimed, but no grading thread held it")

    def _requeue(self, job: SubmissionRecord, why: str) -> None:
        if self.store.requeue(job.id, why, self.clock.now()):
            log.warning("submission %s queued again: %s", job.id, why)
            self.requeued.append(Requeued(job.id, job.question_id, why, self.clock.now()))
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_next_job(self.clock.now())
                self.store_error = None
                if job is None:
                    self.state = "idle"
                    self._wake.wait(0.5)
                    self._wake.clear()
                    continue
                self._held, self._held_since = job.id, time.monotonic()
                try:
                    self._grade(job)
                except Exception as error:  # tfexam's own bug, once the job was claimed
                    self._internal(job, error)
                finally:
                    self._held = None
            except (sqlite3.Error, OSError) as error:  # claiming a job: retried in a moment
                self.store_error = f"{type(error).__name__}: {error}"
                log.warning("grading could not read its queue (%s); trying again", error)
                self._stop.wait(0.5)
            except Exception:  # the loop must survive anything one job does
                log.exception("grading loop error")
                time.sleep(0.5)

    def _internal(self, sub: SubmissionRecord, error: Exception) -> None:
        """An internal error with a job claimed: queue it again at once, then pause; after
        MAX_ATTEMPTS claims store tfexam's failure, so that nothing waits on it for ever."""
        what = f"an internal error ({type(error).__name__}: {error})"
        log.exception("submission %s: %s", sub.id, what)
        self.internal_error = f"submission {sub.id}: {what}"
        self.current, self.state = None, "idle"
        if sub.attempts < MAX_ATTEMPTS:
            self._requeue(sub, what)
            self._stop.wait(INTERNAL_ERROR_PAUSE * sub.attempts)
            return
        outcome = Outcome.tfexam_failure(what)
        question = self.store.question(sub.session_id, sub.question_id)
        payload: dict[str, Any] = {"messages": outcome.messages, "status": outcome.status,
                                   "score": 0, "submission": sub.id, "saved_at": sub.saved_at}
        if question is not None:
            try:
                payload = build_result(sub, question, outcome, 0.0,
                                       self.isolation).model_dump(mode="json")
            except Exception:  # the record itself may be what is broken
                log.exception("submission %s: stored with a minimal result", sub.id)
        self.store.save_result(sub.id, outcome.status, 0, payload, self.clock.now())

    def _attempt(self, job: GradingJob) -> Outcome:
        """One try in one fresh sandbox, destroyed afterwards whatever happened."""
        assert self.pool is not None
        return grade_in_pool(self.pool, job, self.limits)

    def _grade(self, sub: SubmissionRecord) -> None:
        question = self.store.question(sub.session_id, sub.question_id)
        assert question is not None
        started = time.perf_counter()
        self.current, self.state = sub.id, "busy"
        try:
            if sub.attempts > MAX_ATTEMPTS:
                outcome = Outcome.tfexam_failure(
                    f"grading was cut off {MAX_ATTEMPTS} times by restarts of tfexam",
                    ResultStatus.INTERRUPTED)
            else:
                job = GradingJob.of(sub, question)
                outcome = self._attempt(job)
                tries = 1
                while outcome.retry and tries <= RETRIES and not self._stop.is_set():
                    log.warning("submission %s: %s; trying again", sub.id, outcome.messages[:1])
                    if self._stop.wait(RETRY_PAUSE * tries):
                        break
                    outcome = self._attempt(job)
                    tries += 1
                if outcome.retry and self._stop.is_set():
                    # The service is stopping (its sandboxes die with it): this is not a verdict
                    # on the model. The job stays "grading" and is queued again at start-up.
                    log.info("submission %s: grading cut off by the stop; graded again at the "
                             "next start", sub.id)
                    return
                if outcome.retry:
                    outcome.messages.append(
                        f"(Tried {tries} times.) " + ("If it happens again, rebuild the model with "
                                                     "standard layers." if outcome.status ==
                                                     ResultStatus.CRASH else ""))
        finally:
            self.current, self.state = None, "idle"
        result = build_result(sub, question, outcome, time.perf_counter() - started,
                              self.isolation)
        if self._store_result(sub, result):
            snapshots.prune(self.store, self.settings.sessions_dir, sub.session_id,
                            sub.question_id)

    def _store_result(self, sub: SubmissionRecord, result: Result) -> bool:
        """Keep a finished result until the database takes it. A locked, full or read-only
        database must not leave the submission "grading" for good (whoever waits on it would
        wait forever): the write is tried again, with growing pauses, and health says why.
        False only when the service stops first; the job is then graded again at the next
        start."""
        pause = STORE_RETRY_FIRST
        while True:
            try:
                self.store.save_result(sub.id, result.status, result.score,
                                       result.model_dump(mode="json"), self.clock.now())
            except (sqlite3.Error, OSError) as error:
                self.store_error = f"{type(error).__name__}: {error}"
                log.warning("could not store the result of submission %s (%s); trying again "
                            "in %g s", sub.id, self.store_error, pause)
                if self._stop.wait(pause):
                    return False
                pause = min(pause * 2, STORE_RETRY_MOST)
                continue
            self.store_error = None
            return True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._grader, self._watchdog):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=10)
        if self.pool:
            self.pool.stop()
        self.state = "stopped"


def build_result(sub: SubmissionRecord, question: QuestionRecord, outcome: Outcome,
                 duration: float, isolation: Isolation | None = None) -> Result:
    variant = question.variant
    timings = dict(outcome.timings)
    if outcome.peak_memory_mb:
        timings["peak_memory_mb"] = outcome.peak_memory_mb
    messages = list(outcome.messages)
    if isolation is not None and isolation.warning:
        messages.append(isolation.warning)
    return Result(
        session=sub.session_id,
        question=sub.question_id,
        submission=sub.id,
        status=outcome.status,
        score=outcome.score,
        metric=variant["metric"],
        value=outcome.value,
        bands=describe_bands(variant["metric"], variant["scoring"]),
        messages=messages,
        warnings=list(outcome.warnings),
        interval=outcome.interval,
        borderline=outcome.borderline,
        sha256=sub.sha256,
        format=sub.format,
        size_bytes=sub.size_bytes,
        source_path=sub.source_path,
        saved_at=sub.saved_at,
        keras=outcome.keras,
        duration_seconds=round(duration, 3),
        model=outcome.model,
        diagnostics=outcome.diagnostics,
        timings={k: round(float(v), 3) for k, v in timings.items()},
        isolation=isolation.model_dump() if isolation else {},
    )


__all__ = ["TFEXAM_COULD_NOT", "GradingSupervisor", "build_result", "current_isolation"]
