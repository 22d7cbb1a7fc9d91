"""The trusted clock: time passes by the monotonic source; a wall clock change moves nothing; the
high-water mark keeps time from going backwards across restarts."""

from __future__ import annotations

import time

import pytest

from server.clock import (
    FakeSources,
    ManualClock,
    Resumption,
    Stamp,
    TrustedClock,
    monotonic_source,
    resume,
)


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


# Restarts: the time line resumes by the uptime clock in the same boot (issue 17) -------------
BOOT = "b6f9b295-865f-4e6d-8203-de26c9f89670"


def _restarted(sources: FakeSources, last: Stamp, boot: str = BOOT) -> tuple[TrustedClock,
                                                                               Resumption]:
    clock = TrustedClock(sources.wall, sources.monotonic, boot=lambda: boot)
    return clock, clock.resume(last, last.now)


def test_the_wall_clock_set_back_during_a_downtime_costs_the_real_downtime() -> None:
    sources = FakeSources(wall=1_800_000_000.0)
    first = TrustedClock(sources.wall, sources.monotonic, boot=lambda: BOOT)
    last = first.stamp()
    assert last.boot_id == BOOT and last.boottime == sources.monotonic()
    sources.elapse(70)                          # 70 s down ...
    sources.set_wall(sources.wall() - 3600)     # ... and the wall clock set back an hour
    clock, resumed = _restarted(sources, last)
    assert clock.now() == pytest.approx(last.now + 70)
    assert resumed.exact and resumed.how == "same boot"
    assert resumed.downtime_seconds == pytest.approx(70)
    assert "70.0 s" in resumed.sentence() and "uptime" in resumed.sentence()
    sources.elapse(5)
    assert clock.now() == pytest.approx(last.now + 75)


def test_the_wall_clock_set_forward_during_a_downtime_costs_the_real_downtime() -> None:
    sources = FakeSources(wall=1_800_000_000.0)
    last = TrustedClock(sources.wall, sources.monotonic, boot=lambda: BOOT).stamp()
    sources.elapse(8)
    sources.set_wall(sources.wall() + 3600)     # an hour forward over an 8 s restart
    clock, resumed = _restarted(sources, last)
    assert clock.now() == pytest.approx(last.now + 8)
    assert resumed.downtime_seconds == pytest.approx(8)


def test_a_new_boot_counts_at_least_the_uptime_and_says_so() -> None:
    sources = FakeSources(wall=1_800_000_000.0, monotonic=50_000.0)
    last = TrustedClock(sources.wall, sources.monotonic, boot=lambda: BOOT).stamp()
    rebooted = FakeSources(wall=1_800_000_000.0 - 3600, monotonic=120.0)  # wall an hour back
    clock, resumed = _restarted(rebooted, last, boot="another-boot")
    assert clock.now() == pytest.approx(last.now + 120)  # bounded below by the uptime
    assert resumed.how == "new boot" and not resumed.exact
    assert "restarted" in resumed.sentence()
    ahead = FakeSources(wall=1_800_000_000.0 + 600, monotonic=120.0)  # the wall says 10 min
    clock, resumed = _restarted(ahead, last, boot="another-boot")
    assert clock.now() == pytest.approx(last.now + 600)


def test_a_record_without_boot_facts_keeps_todays_rule() -> None:
    resumed = resume(Stamp(1_800_000_000.0), 1_800_000_000.0, wall=1_799_990_000.0,
                     boot_id=BOOT, boottime=100.0)
    assert resumed.now == pytest.approx(1_800_000_001.0) and not resumed.exact
    first = resume(None, None, wall=1_800_000_000.0, boot_id=BOOT, boottime=1.0)
    assert first.now == 1_800_000_000.0 and first.downtime_seconds is None


def test_time_never_goes_back_below_events_recorded_after_the_last_heartbeat() -> None:
    sources = FakeSources(wall=1_800_000_000.0)
    last = TrustedClock(sources.wall, sources.monotonic, boot=lambda: BOOT).stamp()
    sources.elapse(2)
    clock = TrustedClock(sources.wall, sources.monotonic, boot=lambda: BOOT)
    clock.resume(last, last.now + 3)  # an event stamped 3 s past the heartbeat
    assert clock.now() == pytest.approx(last.now + 3)
