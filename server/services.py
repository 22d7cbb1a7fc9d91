"""The running service's parts, wired together once, started and stopped in order.

Start-up order matters for "a crash loses nothing": interrupted jobs are queued again, deadlines
that passed while the service was down are submitted (counting only files saved in time), and
files saved while it was down are picked up before the watcher takes over.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from server.access_token import private_folder
from server.clock import Clock, SystemClock
from server.config import Settings
from server.grading.supervisor import GradingSupervisor
from server.sessions.intake import Intake
from server.sessions.service import SessionService
from server.sessions.sweeper import DeadlineSweeper
from server.store import Database, Store
from server.store.records import SessionRecord
from server.vocabulary import SessionState
from server.watch.model_files import ModelFile
from server.watch.watcher import ModelWatcher

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        private_folder(settings.home)
        self.db = Database(settings.database)
        self.store = Store(self.db)
        self.sessions = SessionService(settings, self.store, self.clock)
        self.grading = GradingSupervisor(settings, self.store, self.clock)
        self.intake = Intake(settings, self.store, self.clock, self.grading.notify)
        self.watcher = ModelWatcher(
            settings.settle_seconds, self._waiting, self._complete, settings.give_up_seconds
        )
        self.sweeper = DeadlineSweeper(self.sessions, settings.sweep_interval)
        self.sessions.hooks.append(self)

    # hooks from the session lifecycle ----------------------------------------------------------
    def session_started(self, session: SessionRecord) -> None:
        questions = {q.question_id: q.model_file for q in self.store.questions(session.id)}
        self.watcher.watch(session.id, Path(session.project_dir), questions)

    def session_submitted(self, session: SessionRecord) -> None:
        self.watcher.unwatch(session.id)
        self.intake.scan(session, "final-scan", cutoff=session.cutoff)

    # callbacks from the watcher ----------------------------------------------------------------
    def _waiting(self, session_id: str, question_id: str, since: float | None) -> None:
        self.store.set_waiting(session_id, question_id, self.clock.now() if since else None)

    def _complete(self, session_id: str, question_id: str, model: ModelFile) -> None:
        session = self.store.session(session_id)
        if session is None or session.state != SessionState.RUNNING:
            return
        self.intake.take(session_id, question_id, model, "save")

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.settings.start_worker:
            self.grading.start()
        self.sweeper.start()
        for session in self.store.sessions(SessionState.RUNNING):
            self.session_started(session)
            try:
                self.intake.scan(session, "startup-scan")
            except OSError as why:
                log.warning("start-up scan of %s failed: %s", session.project_dir, why)
        self.watcher.start()

    def stop(self) -> None:
        self.sweeper.stop()
        self.watcher.stop()
        self.grading.stop()
        self.db.close()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "schema_version": self.db.schema_version,
            "home": str(self.settings.home),
            "worker": self.grading.health(),
            "watching": self.watcher.watching(),
            # The API process must stay free of TensorFlow: only the worker imports it.
            "api_imports_tensorflow": any(m in sys.modules for m in ("tensorflow", "keras")),
        }
