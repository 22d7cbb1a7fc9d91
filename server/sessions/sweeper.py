"""The deadline sweeper: a thread that submits expired sessions, and a first sweep at start-up
for deadlines that passed while the service was down (PrairieLearn's idea).

The same thread does the service's other small periodic chores (the heartbeat that records when
the service was up, noticing project folders that went away or came back), each at most once a
`chore_interval`. A failure of any of them (a locked or full database) is logged, reported in
`health` and tried again on the next beat: the thread itself never dies of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from server.components import Component
from server.sessions.service import SessionService

log = logging.getLogger(__name__)

CHORE_INTERVAL = 1.0


class DeadlineSweeper:
    def __init__(self, sessions: SessionService, interval: float = 0.2,
                 chores: list[Callable[[], object]] | None = None,
                 chore_interval: float = CHORE_INTERVAL) -> None:
        self.sessions = sessions
        self.interval = interval
        self.chores = chores or []
        self.chore_interval = chore_interval
        self.health = Component("sweeper")
        self.last_sweep: float | None = None  # monotonic
        self._next_chores = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> list[str]:
        try:
            swept = self.sessions.sweep()
        except Exception as error:  # the sweeper must outlive any one bad session or database
            self.health.failed(f"{type(error).__name__}: {error}")
            log.warning("deadline sweep failed (%s); trying again", error)
            return []
        self.last_sweep = time.monotonic()
        self.health.ok()
        return swept

    def run_chores(self) -> None:
        for chore in self.chores:
            try:
                chore()
            except Exception as error:
                self.health.failed(f"{getattr(chore, '__name__', 'chore')}: "
                                   f"{type(error).__name__}: {error}")
                log.warning("%s failed (%s); trying again", getattr(chore, "__name__", chore),
                            error)

    def start(self) -> None:
        self.sweep_once()
        self._thread = threading.Thread(target=self._run, name="deadline-sweeper", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep_once()
            if time.monotonic() >= self._next_chores:
                self._next_chores = time.monotonic() + self.chore_interval
                self.run_chores()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.health.stopped()
