"""The one source of time for the service, and a clock the learner cannot move.

Deadlines are the heart of an exam, so every component asks this object for "now" instead of the
system. `TrustedClock` reads the system's wall clock once, at start, and from then on lets time
pass by a monotonic clock: setting the system clock an hour forward or back changes nothing while
the service runs. Across restarts, time never goes backwards: the service persists the latest time
it has seen (its heartbeat, see `server/store`) and the clock starts no earlier than that.

The monotonic source is CLOCK_BOOTTIME where the system has one: unlike CLOCK_MONOTONIC it keeps
counting while a laptop sleeps, and an exam's five hours pass in the sleeping hours too.

Tests hand in a `ManualClock` and move time instead of sleeping, or a `TrustedClock` over
`FakeSources` to move the wall and the monotonic clock separately.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

Source = Callable[[], float]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC), on the service's trusted time line."""

    def not_before(self, floor: float) -> None:
        """Never answer less than `floor` again (the persisted high-water mark of time seen)."""


def monotonic_source() -> Source:
    """CLOCK_BOOTTIME (counts suspend) where there is one, else the process's monotonic clock."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        try:
            time.clock_gettime(boottime)
        except OSError:
            pass
        else:
            return lambda: time.clock_gettime(boottime)
    return time.monotonic


class TrustedClock:
    """wall = (wall at start, raised to the high-water mark) + monotonic time elapsed since.

    Thread-safe: the anchor only changes under the lock, and only ever forwards.
    """

    def __init__(self, wall: Source = time.time, monotonic: Source | None = None) -> None:
        self._monotonic = monotonic or monotonic_source()
        self._lock = threading.Lock()
        self._anchor_wall = wall()
        self._anchor_mono = self._monotonic()

    def now(self) -> float:
        with self._lock:
            return self._anchor_wall + (self._monotonic() - self._anchor_mono)

    def not_before(self, floor: float) -> None:
        with self._lock:
            current = self._anchor_wall + (self._monotonic() - self._anchor_mono)
            if floor > current:
                self._anchor_wall += floor - current


# The old name: every caller that asked for "the system clock" now gets the trusted one.
SystemClock = TrustedClock


class FakeSources:
    """A wall clock and a monotonic clock that tests move independently (a system clock change
    moves only the wall; the passing of time moves both)."""

    def __init__(self, wall: float = 1_800_000_000.0, monotonic: float = 1000.0) -> None:
        self._wall, self._mono = wall, monotonic
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def set_wall(self, value: float) -> None:
        with self._lock:
            self._wall = value

    def elapse(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
            self._mono += seconds


class ManualClock:
    """A clock that only moves when told to; thread-safe because the sweeper reads it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def not_before(self, floor: float) -> None:
        with self._lock:
            self._now = max(self._now, floor)


def iso(ts: float | None) -> str | None:
    """ISO 8601 in UTC with a 'Z', the one format the API speaks."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
