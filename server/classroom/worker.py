"""`tfexam worker`: a Celery worker that grades classroom submissions, on any machine.

Each pool process sets up the same confinement and warm sandbox pool as the local mode (through
the grading supervisor's own `set_up` and `grade`), in a sandbox folder of its own (a home shared
with other workers must not have one worker clean another's sandboxes). A job is a submission id:
the process claims it in the store (skipped when it was superseded or already graded), grades it,
and stores the result, once, whatever happened before (a redelivered job finds its result stored).

Times a worker writes come from the database's clock, not the worker machine's: a worker whose
clock runs ahead must not move the exam's time line (the service never lets time go backwards
past the latest time the record has seen).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
from typing import Any

import sqlalchemy as sa
from celery import signals

from server.classroom.broker import MARGIN_SECONDS, QUEUE, RETRIES, TASK, make_app
from server.config import Settings
from server.grading.trusted.supervisor import GradingSupervisor
from server.store import Database, Store, StoreUnavailable

log = logging.getLogger(__name__)


class DatabaseClock:
    """The central database's time (epoch seconds): one clock for every worker machine."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def now(self) -> float:
        if self.db.is_sqlite:
            return time.time()
        row = self.db.query_one(sa.text("SELECT EXTRACT(EPOCH FROM clock_timestamp())"))
        return float(row[0]) if row else time.time()


class Grader:
    """One pool process's grading: its store, its supervisor and its warm sandboxes."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.db = Database(settings.store_target)
        self.store = Store(self.db)
        self.clock = DatabaseClock(self.db)
        self.supervisor = GradingSupervisor(settings, self.store, self.clock)  # type: ignore[arg-type]
        self.supervisor.root = settings.home / "workers" / f"{name}-{os.getpid()}" / "sandbox"
        self.supervisor.root.mkdir(parents=True, exist_ok=True)
        self.ready = self.supervisor.set_up()
        if self.ready:
            threading.Thread(target=self._say_when_warm, name="warm-notice", daemon=True).start()

    def _say_when_warm(self) -> None:
        pool = self.supervisor.pool
        while pool is not None and not pool.ready_count:
            time.sleep(0.1)
        log.info("tfexam worker process %s: sandbox warm", os.getpid())

    def grade(self, submission_id: int, job_seconds: float | None = None) -> str:
        """Grade one job; `job_seconds` is the sandbox's limit per try, from the limits the
        publisher put on the message."""
        if job_seconds:
            self.supervisor.limits = dataclasses.replace(self.supervisor.limits,
                                                         job_seconds=job_seconds)
        sub = self.store.claim(submission_id, self.clock.now())
        if sub is None:
            return "skipped"  # superseded, or graded by an earlier delivery of this job
        log.info("grading submission %s (attempt %s) in process %s", sub.id, sub.attempts,
                 os.getpid())
        self.supervisor.grade(sub)
        return "graded"


def job_seconds_of(hard_limit: float | None) -> float | None:
    """The sandbox's limit per try that the publisher's hard limit was made from."""
    if not hard_limit:
        return None
    return max(1.0, (float(hard_limit) - MARGIN_SECONDS) / (RETRIES + 1))


def build(settings: Settings, name: str) -> Any:
    app = make_app(settings)
    holder: dict[str, Grader] = {}
    lock = threading.Lock()

    def grader() -> Grader:
        with lock:
            if "grader" not in holder:
                holder["grader"] = Grader(settings, name)
            return holder["grader"]

    @signals.worker_process_init.connect(weak=False)
    def _warm(**_: Any) -> None:
        grader()  # each pool process warms its sandbox before its first job

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def grade(task: Any, submission_id: int) -> str:
        one = grader()
        if not one.ready:
            raise task.retry(countdown=10, max_retries=None,
                             exc=RuntimeError(one.supervisor.setup_error or "no sandbox"))
        hard = (task.request.timelimit or (None, None))[0]
        try:
            return one.grade(int(submission_id), job_seconds_of(hard))
        except StoreUnavailable as error:
            # The database is away (restarting, a failover): the job is sent again in a moment
            # rather than failed for good (a failed task is acknowledged and would wait for the
            # service's lease).
            log.warning("submission %s: the store is unavailable (%s); trying again shortly",
                        submission_id, error)
            raise task.retry(countdown=2, max_retries=None, exc=error) from error

    return app


def run(settings: Settings, concurrency: int = 1, name: str | None = None) -> int:
    name = name or f"tfexam-{socket.gethostname()}-{os.getpid()}"
    app = build(settings, name)
    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", QUEUE,
                     "--pool=prefork", "-n", f"{name}@%h", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"])
    return 0
