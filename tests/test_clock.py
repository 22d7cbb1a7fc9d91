"""The trusted clock: time passes by the monotonic source; a wall clock change moves nothing; the
high-water mark keeps time from going backwards across restarts."""

from __future__ import annotations

import time

import pytest

from server.clock import FakeSources, ManualClock, TrustedClock, monotonic_source


def test_a_wall_clock_jump_moves_nothing() -> None:
    sources = FakeSources(wall=1_800_000_000.0)
    clock = TrustedClock(sources.wall, sources.monotonic)
    start = clock.now()
    sources.elapse(10)
    assert clock.now() == pytest.approx(start + 10)
    sources.set_wall(sources.wall() + 3600)  # the system clock set an hour forward
    assert clock.now() == pytest.approx(start + 10)
    sources.set_wall(sources.wall() - 7200)  # and then an hour back
    sources.elapse(5)
    assert clock.now() == pytest.approx(start + 15)


def test_time_never_goes_back_below_the_high_water_mark() -> None:
    sources = FakeSources(wall=1_800_000_000.0)
    clock = TrustedClock(sources.wall, sources.monotonic)  # a restart with the wall an hour behind
    clock.not_before(1_800_003_600.0)
    assert clock.now() == pytest.approx(1_800_003_600.0)
    sources.elapse(2)
    assert clock.now() == pytest.approx(1_800_003_602.0)
    clock.not_before(0.0)  # a lower mark changes nothing
    assert clock.now() == pytest.approx(1_800_003_602.0)


def test_the_real_sources_tick_together() -> None:
    clock = TrustedClock()
    assert abs(clock.now() - time.time()) < 1.0
    tick = monotonic_source()
    first = tick()
    time.sleep(0.01)
    assert tick() > first


def test_manual_clock_honours_the_mark() -> None:
    clock = ManualClock(100.0)
    clock.not_before(50.0)
    assert clock.now() == 100.0
    clock.not_before(200.0)
    assert clock.now() == 200.0
