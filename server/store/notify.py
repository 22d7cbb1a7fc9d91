"""Live updates across processes: PostgreSQL's `LISTEN/NOTIFY` turned into a wake-up.

In classroom mode events are written by several processes (the service's threads, every grading
worker). Each event's transaction sends `NOTIFY tfexam_events` (delivered only when it commits,
so a notice never runs ahead of the record); this thread listens on its own connection and calls
`wake` for every notice, which is what the live pages' broadcaster waits on. A lost connection
(PostgreSQL restarted) is opened again with growing pauses and then `wake` is called once, since
notices sent meanwhile are gone; the broadcaster's slow fallback read covers the gap as well.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MOST = 0.2, 5.0


class EventListener:
    def __init__(self, url: sa.URL, channel: str, wake: Callable[[], None]) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.wake = wake
        self.notices = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-listener", daemon=True)

    def start(self) -> EventListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import psycopg

        pause = RETRY_FIRST
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self.connected.set()
                    pause = RETRY_FIRST
                    self.wake()  # whatever was written while this listener was not connected
                    while not self._stop.is_set():
                        for _notice in conn.notifies(timeout=0.5, stop_after=100):
                            self.notices += 1
                            self.wake()
            except psycopg.Error as error:
                self.connected.clear()
                log.warning("live updates from other processes paused (%s); reconnecting in "
                            "%g s", error, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, RETRY_MOST)
