"""The one source of time for the service, and a clock the learner cannot move.

Deadlines are the heart of an exam, so every component asks this object for "now" instead of the
system. `TrustedClock` reads the system's wall clock once, at start, and from then on lets time
pass by a monotonic clock: setting the system clock an hour forward or back changes nothing while
the service runs. Across restarts, time never goes backwards: the service persists the latest time
it has seen (its heartbeat, see `server/store`) and the clock starts no earlier than that.

The monotonic source is CLOCK_BOOTTIME where the system has one: unlike CLOCK_MONOTONIC it keeps
counting while a laptop sleeps, and an exam's five hours pass in the sleeping hours too.

Across a restart the wall clock is not trusted either (issue 17). Each heartbeat records, beside
the trusted time, the kernel's boot id and CLOCK_BOOTTIME at that moment (`Stamp`). A restart in
the same boot resumes the time line exactly: the last heartbeat's trusted time plus the
CLOCK_BOOTTIME seconds since it, whatever the wall clock was set to meanwhile, so downtime costs
exactly the real time that passed and time left never grows. After a reboot CLOCK_BOOTTIME starts
again from zero, so the clock falls back to the wall clock, never earlier than the last time seen
plus the seconds since this boot (the machine was up at least that long since the last
heartbeat), and says so (`Resumption.sentence`).

Tests hand in a `ManualClock` and move time instead of sleeping, or a `TrustedClock` over
`FakeSources` to move the wall and the monotonic clock separately.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

Source = Callable[[], float]
BootSource = Callable[[], "str | None"]

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
# Where nothing better is known, the last run is assumed to have lived one heartbeat past its last
# record (the sweeper's chore interval), so that time left never grows across a restart.
HEARTBEAT_SLACK = 1.0


def read_boot_id() -> str | None:
    """The kernel's id of this boot; None where there is none (not Linux, no /proc)."""
    try:
        return BOOT_ID_FILE.read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class Stamp:
    """One heartbeat's reading: the trusted time and, from the same instant, the boot it was
    taken in and CLOCK_BOOTTIME (both None where the clock has no boot reckoning)."""

    now: float
    boot_id: str | None = None
    boottime: float | None = None


@dataclass(frozen=True)
class Resumption:
    """Where a restart put the time line, and how it knows."""

    now: float
    last_seen: float | None      # the last heartbeat's trusted time (None: no earlier run)
    how: str                     # "first run", "same boot", "new boot", "no boot reckoning"
    exact: bool                  # True when the downtime was measured, not bounded

    @property
    def downtime_seconds(self) -> float | None:
        return None if self.last_seen is None else max(0.0, self.now - self.last_seen)

    def sentence(self) -> str:
        if self.last_seen is None:
            return "First run on this record: the clock starts at the system's time."
        seconds = f"{self.downtime_seconds:.1f} s"
        if self.exact:
            return (f"tfexam was down {seconds}, measured by the machine's uptime clock "
                    "(the system's wall clock is not used across a restart).")
        if self.how == "new boot":
            return (f"The machine restarted while tfexam was down: the downtime is counted as "
                    f"{seconds}, the system clock's account, and never less than the time since "
                    "this boot or than one heartbeat.")
        return (f"tfexam was down {seconds} by the system clock (this system has no uptime "
                "clock to measure it), and never less than one heartbeat.")


def resume(last: Stamp | None, high_water: float | None, wall: float, boot_id: str | None,
           boottime: float | None) -> Resumption:
    """The time line's value at a restart (see the module's docstring). `last` is the previous
    run's last heartbeat, `high_water` the latest time the record holds (heartbeats, events)."""
    floor = high_water if high_water is not None else (last.now if last else None)
    if last is None and floor is None:
        return Resumption(wall, None, "first run", exact=False)
    seen = last.now if last is not None else floor
    assert seen is not None and floor is not None
    if (last is not None and boot_id is not None and boottime is not None
            and last.boot_id == boot_id and last.boottime is not None
            and boottime >= last.boottime):
        now = max(last.now + (boottime - last.boottime), floor)
        return Resumption(now, seen, "same boot", exact=True)
    if boot_id is not None and boottime is not None and last is not None and last.boot_id:
        # A new boot: at least the seconds since it passed after the last heartbeat.
        now = max(wall, floor + max(HEARTBEAT_SLACK, boottime))
        return Resumption(now, seen, "new boot", exact=False)
    return Resumption(max(wall, floor + HEARTBEAT_SLACK), seen, "no boot reckoning", exact=False)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC), on the service's trusted time line."""

    def not_before(self, floor: float) -> None:
        """Never answer less than `floor` again (the persisted high-water mark of time seen)."""

    def stamp(self) -> Stamp:
        """The heartbeat's reading: now, with the boot and uptime it was read in."""

    def resume(self, last: Stamp | None, high_water: float | None) -> Resumption:
        """Set the time line at a restart from the previous run's last heartbeat."""


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

    def __init__(self, wall: Source = time.time, monotonic: Source | None = None,
                 boot: BootSource | None = None) -> None:
        self._wall = wall
        # Boot reckoning needs an uptime clock that counts across restarts of the service:
        # CLOCK_BOOTTIME with the kernel's boot id, or what a test hands in for both.
        if monotonic is None:
            monotonic = monotonic_source()
            if boot is None and monotonic is not time.monotonic:
                boot = read_boot_id
        self._monotonic = monotonic
        self._boot = boot
        self._lock = threading.Lock()
        self._anchor_wall = wall()
        self._anchor_mono = self._monotonic()

    def stamp(self) -> Stamp:
        with self._lock:
            mono = self._monotonic()
            now = self._anchor_wall + (mono - self._anchor_mono)
        boot_id = self._boot() if self._boot else None
        return Stamp(now, boot_id, mono if boot_id else None)

    def resume(self, last: Stamp | None, high_water: float | None) -> Resumption:
        with self._lock:
            mono = self._monotonic()
            boot_id = self._boot() if self._boot else None
            resumed = resume(last, high_water, self._wall(), boot_id,
                             mono if boot_id else None)
            self._anchor_wall, self._anchor_mono = resumed.now, mono
        return resumed

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

    def stamp(self) -> Stamp:
        return Stamp(self.now())

    def resume(self, last: Stamp | None, high_water: float | None) -> Resumption:
        """Without boot reckoning: today's rule, never before the last time seen plus a beat."""
        with self._lock:
            resumed = resume(last, high_water, self._now, None, None)
            self._now = resumed.now
        return resumed


def iso(ts: float | None) -> str | None:
    """ISO 8601 in UTC with a 'Z', the one format the API speaks."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
