"""The deadline sweeper: a thread that submits expired sessions, and a first sweep at start-up
for deadlines that passed while the service was down (PrairieLearn's idea)."""

from __future__ import annotations

import logging
import threading

from server.sessions.service import SessionService

log = logging.getLogger(__name__)


class DeadlineSweeper:
    def __init__(self, sessions: SessionService, interval: float = 0.2) -> None:
        self.sessions = sessions
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> list[str]:
        try:
            return self.sessions.sweep()
        except Exception:  # the sweeper must outlive any one bad session
            log.exception("deadline sweep failed; trying again")
            return []

    def start(self) -> None:
        self.sweep_once()
        self._thread = threading.Thread(target=self._run, name="deadline-sweeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
