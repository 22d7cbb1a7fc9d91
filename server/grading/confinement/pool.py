"""Warm sandboxes: one is kept started and ready (TensorFlow imported) before it is needed.

A forking sandbox (bubblewrap's: a zygote forks one child per job, see worker/zygote.py) is lent
for a job and given back when the zygote has cleaned up after it, so it serves job after job
without importing TensorFlow again; while it is lent it still counts towards the pool's size, so
no other sandbox is started for nothing. Any sandbox whose job did not end cleanly, and every
one-job sandbox (the fallback's), is destroyed after its job while another one starts in the
background. A forking sandbox is retired after MAX_JOBS_PER_SANDBOX jobs.

All sandboxes are started by one long-lived thread: the kernel's "die with parent" signal follows
the thread that started a process, so a short-lived starter thread would take its sandbox with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from server.grading.confinement.sandbox import Plan, Sandbox, SandboxFailure, SandboxLimits, new_sandbox

log = logging.getLogger(__name__)

RESTART_BACKOFF = 5.0
LOG_LIMIT = 8 * 2**20
MAX_JOBS_PER_SANDBOX = 200


class SandboxPool:
    def __init__(self, plan: Plan, limits: SandboxLimits, root: Path, log_path: Path,
                 size: int = 1) -> None:
        self.plan = plan
        self.limits = limits
        self.root = root
        self.log_path = log_path
        self.size = size
        # One sandbox until the first job is taken: a service that grades nothing (most of a
        # test suite, an exam not started yet) imports TensorFlow once, as it always did.
        self._target = 1
        self.starts = 0
        self.last_failure: SandboxFailure | None = None
        self.info: dict[str, Any] = {}
        self._ready: deque[Sandbox] = deque()
        self._starting: list[Sandbox] = []
        self._lent = 0  # forking sandboxes out for a job, expected back
        self._backoff_until = 0.0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, delay: float = 0.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob("sb-*"):  # left by a service that was killed
            import shutil

            shutil.rmtree(stale, ignore_errors=True)
        self._thread = threading.Thread(target=self._keep_warm, args=(delay,),
                                        name="sandbox-starter", daemon=True)
        self._thread.start()

    def _keep_warm(self, delay: float) -> None:
        """Start sandboxes (here, in this long-lived thread) until ready + starting reaches the
        target; each one's wait for "ready" runs in a thread of its own, so two can import
        TensorFlow at once on two cores."""
        self._stop.wait(delay)
        while not self._stop.is_set():
            with self._changed:
                for dead in [s for s in self._ready if not s.alive]:
                    self._ready.remove(dead)
                    dead.destroy()
                    log.warning("a warm sandbox died while waiting; starting another")
                backing_off = self._backoff_until > time.monotonic()
                if backing_off or (len(self._ready) + len(self._starting) + self._lent
                                   >= self._target):
                    self._changed.wait(0.5)
                    continue
                self._rotate_log()
                sandbox = new_sandbox(self.plan, self.limits, self.root, self.log_path)
                self._starting.append(sandbox)
                self.starts += 1
            failure = sandbox.start()
            threading.Thread(target=self._await_ready, args=(sandbox, failure),
                             name="sandbox-ready", daemon=True).start()

    def _await_ready(self, sandbox: Sandbox, failure: SandboxFailure | None) -> None:
        started = failure or sandbox.wait_ready()
        with self._changed:
            self._starting.remove(sandbox)
            if self._stop.is_set():
                sandbox.destroy()
                return
            if isinstance(started, SandboxFailure):
                sandbox.destroy()
                self.last_failure = started
                self._backoff_until = time.monotonic() + RESTART_BACKOFF
                log.error("a grading sandbox did not start: %s (see %s)", started.detail,
                          self.log_path)
            else:
                self.last_failure = None
                self.info = {"versions": started.versions,
                             "import_seconds": started.import_seconds,
                             "confinement": started.confinement}
                self._ready.append(sandbox)
            self._changed.notify_all()

    def _rotate_log(self) -> None:
        """The children's log stays bounded: past LOG_LIMIT it becomes `.1` (one old copy)."""
        try:
            if self.log_path.stat().st_size > LOG_LIMIT:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
        except OSError:
            pass

    def take(self, timeout: float | None = None) -> Sandbox | SandboxFailure:
        """A ready sandbox, now yours (destroy it when the job is done); or why there is none."""
        deadline = time.monotonic() + (timeout if timeout is not None else
                                       self.limits.start_seconds + 10)
        with self._changed:
            self._target = self.size
            failures_seen = self.starts if self.last_failure else -1
            while True:
                while self._ready:
                    sandbox = self._ready.popleft()
                    self._changed.notify_all()  # the starter makes the next one if needed
                    if sandbox.alive:
                        self._lent += sandbox.forks  # counted until it is given back
                        return sandbox
                    sandbox.destroy()
                if self.last_failure is not None and self.starts != failures_seen:
                    return self.last_failure
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return SandboxFailure("start", "no grading sandbox became ready in time")
                self._changed.wait(min(remaining, 0.5))

    def give_back(self, sandbox: Sandbox, reusable: bool) -> None:
        """The end of a job: a forking sandbox whose job ended cleanly serves the next one (once
        the zygote has cleaned up); any other is destroyed, and the starter replaces it."""
        keep = (reusable and sandbox.forks and sandbox.jobs < MAX_JOBS_PER_SANDBOX
                and not self._stop.is_set() and sandbox.recycle())
        with self._changed:
            if sandbox.forks:
                self._lent -= 1
            if keep:
                self._ready.appendleft(sandbox)
            self._changed.notify_all()
        if not keep:
            sandbox.destroy()

    @property
    def ready_count(self) -> int:
        with self._changed:
            return len(self._ready)

    @property
    def warm_pid(self) -> int | None:
        with self._changed:
            return self._ready[0].pid if self._ready else None

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        with self._changed:
            starting = list(self._starting)
        for sandbox in starting:
            sandbox.kill()  # its wait for "ready" ends at once; its thread destroys it
        if self._thread:
            self._thread.join(timeout=15)
        with self._changed:
            while self._ready:
                self._ready.popleft().destroy()
