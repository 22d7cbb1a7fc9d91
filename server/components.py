"""The real state of one part of the service, as /api/health reports it.

A part that fails keeps running and retries; what it last tried, when, and why it failed is kept
here, so health says "degraded: database is locked" instead of a cheerful "watching" while
nothing works. A success clears the error.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from server.vocabulary import ComponentState


class Component:
    def __init__(self, name: str) -> None:
        self.name = name
        self.state = ComponentState.STARTING
        self.error: str | None = None
        self.failures = 0  # failures since the last success
        self.total_failures = 0
        self.last_ok: float | None = None  # time.monotonic() of the last success
        self._lock = threading.Lock()

    def ok(self) -> None:
        with self._lock:
            self.state, self.error, self.failures = ComponentState.OK, None, 0
            self.last_ok = time.monotonic()

    def failed(self, error: str, fatal: bool = False) -> None:
        with self._lock:
            self.state = ComponentState.FAILED if fatal else ComponentState.DEGRADED
            self.error = error
            self.failures += 1
            self.total_failures += 1

    def stopped(self) -> None:
        with self._lock:
            self.state = ComponentState.STOPPED

    def report(self, **extra: Any) -> dict[str, Any]:
        with self._lock:
            age = None if self.last_ok is None else round(time.monotonic() - self.last_ok, 1)
            return {"state": str(self.state), "error": self.error, "failures": self.failures,
                    "total_failures": self.total_failures, "seconds_since_ok": age, **extra}
