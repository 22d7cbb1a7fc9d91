"""The grading watchdog (issue 17): a claimed job that no live grading thread holds is queued
again and health names it meanwhile; a job the thread holds is left alone. A real store and a
manual clock; no sandbox is needed to hold or lose a claim."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.grading.trusted.supervisor import ORPHAN_GRACE
from server.services import Services
from server.store.records import SubmissionRecord


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), ManualClock())
    yield built
    built.db.close()


def _claimed(services: Services, tmp_path: Path) -> SubmissionRecord:
    clock = services.clock
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=30)
    services.store.add_submission(SubmissionRecord(
        0, session.id, "Q1", "p", "s", "sha", "h5", 1, clock.now(), clock.now(), "save", "queued",
        0, None), now=clock.now())
    job = services.store.claim_next_job(clock.now())
    assert job is not None and job.state == "grading"
    return job


def test_a_claim_nobody_holds_is_queued_again(services: Services, tmp_path: Path) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    grading = services.grading
    job = _claimed(services, tmp_path)  # claimed by a thread that then lost it
    grading._watch_once()
    assert services.store.submission(job.id).state == "grading"  # too young to judge yet
    clock.advance(ORPHAN_GRACE + 1)
    stuck = grading.health()["stuck"]
    assert [s["submission"] for s in stuck] == [job.id], stuck
    assert "no grading thread holds it" in stuck[0]["why"]
    grading._watch_once()
    assert services.store.submission(job.id).state == "queued"
    health = grading.health()
    assert health["stuck"] == [] and health["requeued"][-1]["submission"] == job.id


def test_a_held_claim_is_left_to_its_thread(services: Services, tmp_path: Path) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    grading = services.grading
    job = _claimed(services, tmp_path)
    grading._held, grading._held_since = job.id, time.monotonic()  # a live thread grades it
    clock.advance(60)
    grading._watch_once()
    assert services.store.submission(job.id).state == "grading"
    assert grading.health()["stuck"] == []
