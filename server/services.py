"""The running service's parts, wired together once, started and stopped in order.

Start-up order matters for "a crash loses nothing" and for "time cannot be moved":
1. the clock is raised to the latest time the record has seen (time never goes backwards), and
   this run is recorded (its start ends the downtime that the previous run's heartbeat began);
2. interrupted jobs are queued again;
3. the watcher starts, then every running session whose deadline is still ahead is watched and
   scanned: files changed while the service was down count, as saved now, because the whole
   downtime ended before the deadline;
4. the sweeper starts: it submits sessions whose deadline passed while the service was down, and
   files changed during that downtime do not count (the question says why).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from server.access_token import private_folder
from server.clock import Clock, TrustedClock
from server.config import Settings
from server.grading.trusted.supervisor import GradingSupervisor, current_isolation
from server.sessions.intake import Downtime, Intake, IntakeFailed
from server.sessions.leftovers import clean_leftovers
from server.sessions.service import SessionService
from server.sessions.status import session_status
from server.sessions.sweeper import DeadlineSweeper
from server.store import Database, Store
from server.store.records import SessionRecord
from server.vocabulary import ComponentState, SessionState, Trigger
from server.watch.model_files import ModelFile
from server.watch.watcher import ModelWatcher

log = logging.getLogger(__name__)

# How long after its cutoff a submitted session's folder is still watched, to name a model saved
# too late ("saved 6 s after the deadline: not counted") instead of ignoring it in silence.
LATE_WATCH_SECONDS = 60 * 60.0


class Services:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or TrustedClock()
        private_folder(settings.home)
        self.db = Database(settings.database)
        self.store = Store(self.db)
        # Where the time line resumes: by the uptime clock in the same boot, else bounded (see
        # server/clock.py); the sentence says which, in the log and in health.
        self.resumption = self.clock.resume(self.store.last_stamp(), self.store.high_water())
        if self.resumption.last_seen is not None:
            log.info("%s", self.resumption.sentence())
        stamp = self.clock.stamp()
        self.run_id, last_seen = self.store.begin_run(os.getpid(), stamp)
        self.downtime = Downtime(began=last_seen, ended=stamp.now)
        self.sessions = SessionService(settings, self.store, self.clock)
        self.grading = GradingSupervisor(settings, self.store, self.clock)
        self.intake = Intake(settings, self.store, self.clock, self.grading.notify)
        self.watcher = ModelWatcher(settings.settle_seconds, self._waiting, self._complete,
                                    settings.give_up_seconds, clock=self.clock)
        self.sweeper = DeadlineSweeper(self.sessions, settings.sweep_interval,
                                       chores=[self.heartbeat, self.check_projects,
                                               self.end_late_watches,
                                               self.intake.take_unrecorded])
        self.sessions.hooks.append(self)
        # Sessions this run has watched since before their cutoff: a file found at their finish
        # was observed by this run; any other session's changes date from a downtime.
        self._observed: set[str] = set()
        self._missing: set[str] = set()
        # Submitted sessions still watched for late saves, until this time (trusted clock).
        self._late_until: dict[str, float] = {}
        self._lock = threading.RLock()

    # hooks from the session lifecycle ----------------------------------------------------------
    def session_started(self, session: SessionRecord) -> None:
        self._follow(session)

    def _follow(self, session: SessionRecord) -> bool:
        """Follow a running session's project folder. A missing folder is reported once, and a
        folder that is back is reported at once (True), whether or not file-system events work
        for it this time: the watcher polls a folder it cannot watch."""
        project = Path(session.project_dir)
        present = project.is_dir()
        if present:
            self.watcher.watch(session.id, project, {q.question_id: q.model_file
                                                     for q in self.store.questions(session.id)})
        with self._lock:
            was_missing = session.id in self._missing
            if present:
                self._missing.discard(session.id)
                if self.clock.now() < session.cutoff:
                    self._observed.add(session.id)
            else:
                self._missing.add(session.id)
        if not present and not was_missing:
            log.warning("the project folder of session %s is missing: %s", session.id, project)
            self.store.add_event(session.id, "project.missing", {"project": str(project)},
                                 self.clock.now())
        if present and was_missing:
            log.info("the project folder of session %s is back", session.id)
            self.store.add_event(session.id, "project.back", {"project": session.project_dir},
                                 self.clock.now())
        return present and was_missing

    def session_submitted(self, session: SessionRecord) -> None:
        # Watched a while longer, so that a model saved after the cutoff is named, not ignored.
        with self._lock:
            observed = session.id in self._observed
            self._missing.discard(session.id)
            if observed:
                self._late_until[session.id] = self.clock.now() + LATE_WATCH_SECONDS
        if not observed:
            self.watcher.unwatch(session.id)
        if observed:
            # Found at the finish by a run that was watching: saved by the cutoff. A file that
            # cannot be recorded now (a full home) is held and taken once there is room.
            try:
                self.intake.scan(session, Trigger.FINAL_SCAN,
                                 observed_at=min(self.clock.now(), session.cutoff))
            except (IntakeFailed, sqlite3.Error) as why:
                log.warning("the final scan of %s could not record every file: %s",
                            session.id, why)
        elif Path(session.project_dir).is_dir():
            self.intake.refuse_after_downtime(session, self.downtime)

    # chores of the sweeper's thread ------------------------------------------------------------
    def heartbeat(self) -> None:
        """Record that the service is up now: the high-water mark of time, and the end of the
        stretch it was up, should it be killed next."""
        self.store.heartbeat(self.run_id, self.clock.stamp())

    def end_late_watches(self) -> None:
        """Stop watching submitted sessions whose time for naming late saves is over."""
        now = self.clock.now()
        with self._lock:
            over = [sid for sid, until in self._late_until.items() if until <= now]
            for session_id in over:
                del self._late_until[session_id]
        for session_id in over:
            self.watcher.unwatch(session_id)

    def check_projects(self) -> None:
        """A project folder that went away is reported missing; one that came back is followed
        again and scanned (what changed meanwhile was observed now, by a running service); for
        one that is only polled, file-system events are tried again."""
        for session_id, folder in self.watcher.folders().items():
            if not folder.is_dir():
                self.watcher.unwatch(session_id)
                with self._lock:
                    late = self._late_until.pop(session_id, None) is not None
                if late:  # a submitted exam's folder: nothing more to say about it
                    continue
                with self._lock:
                    self._missing.add(session_id)
                log.warning("the project folder of session %s went away: %s", session_id, folder)
                self.store.add_event(session_id, "project.missing", {"project": str(folder)},
                                     self.clock.now())
        polled = set(self.watcher.polled())
        with self._lock:
            unsettled = sorted(self._missing | polled)
        for session_id in unsettled:
            session = self.store.session(session_id)
            if session is None or session.state != SessionState.RUNNING:
                with self._lock:
                    self._missing.discard(session_id)
                    late = session_id in self._late_until and session_id in polled
                if not late:  # a polled folder still sees late saves; a missing one none
                    self.watcher.unwatch(session_id)
                continue
            if self._follow(session):
                self.intake.scan(session, Trigger.RESCAN)

    # callbacks from the watcher ----------------------------------------------------------------
    def _waiting(self, session_id: str, question_id: str, since: float | None) -> None:
        with self._lock:
            late = session_id in self._late_until
        if late:  # a save into a submitted exam is not "being graded": it is named once complete
            return
        self.store.set_waiting(session_id, question_id, since)

    def _complete(self, session_id: str, question_id: str, model: ModelFile,
                  observed_at: float) -> None:
        session = self.store.session(session_id)
        if session is None:
            return
        if session.state == SessionState.RUNNING or observed_at <= session.cutoff:
            # Observed in time: counts, even when the final scan ran before it settled.
            self.intake.take(session_id, question_id, model, Trigger.SAVE, observed_at)
        else:
            self.intake.note_late_save(session, question_id, model, observed_at)

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        clean_leftovers(self.settings, self.store)
        if self.settings.start_worker:
            self.grading.start()
        self.watcher.start()
        now = self.clock.now()
        for session in self.store.sessions(SessionState.RUNNING):
            if session.deadline <= now:
                continue  # passed while down: the sweeper submits it, below
            self.session_started(session)
            if session.id in self._missing:
                continue
            try:
                self.intake.scan(session, Trigger.STARTUP_SCAN)
            except Exception as why:  # one session's folder must not stop the service
                log.warning("start-up scan of %s failed: %s", session.project_dir, why)
        self.sweeper.start()

    def stop(self) -> None:
        self.sweeper.stop()
        self.watcher.stop()
        self.grading.stop()
        self.db.close()

    def status_or_none(self, session_id: str) -> dict[str, Any] | None:
        """A session's status for the live pages (None if it cannot be read just now)."""
        session = self.store.session(session_id)
        return None if session is None else session_status(self.store, session, self.clock.now())

    def _restart_facts(self) -> dict[str, Any]:
        """How this run's start set the time line: measured or bounded, and by how much."""
        resumed = self.resumption
        downtime = resumed.downtime_seconds
        return {"how": resumed.how, "exact": resumed.exact,
                "downtime_seconds": None if downtime is None else round(downtime, 3),
                "sentence": resumed.sentence()}

    def missing_projects(self) -> list[str]:
        with self._lock:
            return sorted(self._missing)

    def health(self) -> dict[str, Any]:
        """Each part's real state; the whole is "ok" only if every part is."""
        try:
            schema: int | None = self.db.schema_version
        except Exception as error:  # health must answer even when the database does not
            self.db.health.failed(f"{type(error).__name__}: {error}")
            schema = None
        try:
            worker = self.grading.health()
        except Exception as error:
            worker = {"state": "unknown", "error": f"{type(error).__name__}: {error}"}
        polled = self.watcher.polled()
        watcher = self.watcher.health.report(
            alive=self.watcher.alive, watching=self.watcher.watching(),
            missing_projects=self.missing_projects(), polled_projects=polled)
        if polled and watcher["state"] == ComponentState.OK:
            watcher["state"] = ComponentState.DEGRADED
            watcher["error"] = (f"cannot watch the project folders of {', '.join(polled)} (a "
                                "system limit?): looking at their model files every "
                                f"{self.watcher.poll_seconds:g} s instead")
        if not self.watcher.alive and watcher["state"] != ComponentState.STOPPED:
            watcher["state"] = ComponentState.FAILED
        sweeper = self.sweeper.health.report(alive=self.sweeper.alive)
        if not self.sweeper.alive and sweeper["state"] != ComponentState.STOPPED:
            sweeper["state"] = ComponentState.FAILED
        database = self.db.health.report(path=str(self.settings.database))
        parts = [watcher["state"], sweeper["state"], database["state"]]
        worker_bad = worker.get("state") in ("failed", "unknown") or bool(worker.get("stuck"))
        overall = "ok" if all(p == ComponentState.OK for p in parts) and not worker_bad else (
            "degraded")
        return {
            "status": overall,
            "schema_version": schema,
            "home": str(self.settings.home),
            "worker": worker,
            "isolation": current_isolation(),
            "watcher": watcher,
            "sweeper": sweeper,
            "database": database,
            "watching": watcher["watching"],
            # The exam's time line against the system's wall clock: a skew means the system
            # clock was changed while the service ran (time left is unaffected).
            "clock": {"trusted": round(self.clock.now(), 3), "wall": round(time.time(), 3),
                      "skew_seconds": round(time.time() - self.clock.now(), 3),
                      "last_restart": self._restart_facts()},
            # The API process must stay free of TensorFlow: only the worker imports it.
            "api_imports_tensorflow": any(m in sys.modules for m in ("tensorflow", "keras")),
        }
