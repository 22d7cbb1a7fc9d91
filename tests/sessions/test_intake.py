"""Intake: what is graded is a snapshot, the same content is never graded twice, and a content
seen before becomes the latest submission with its earlier result."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.services import Services
from server.sessions.intake import NothingToSubmit
from server.watch.model_files import ModelFile, sha256_of
from tests.support import models


@pytest.fixture
def services(tmp_path: Path):
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), ManualClock())
    yield built
    built.db.close()


def test_snapshot_dedupe_and_reuse(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    a = models.save(models.line_model(trained=True), tmp_path / "a.h5")
    b = models.save(models.line_model(trained=False), tmp_path / "b.h5")

    target.write_bytes(a.read_bytes())
    first = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    snapshot = Path(first.snapshot_path)
    assert snapshot.is_file() and services.settings.home in snapshot.parents
    target.write_bytes(b"edited after the save")
    assert sha256_of(snapshot) == first.sha256  # later edits cannot change what is graded

    target.write_bytes(a.read_bytes())
    again = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    assert again.id == first.id  # same content as the latest: nothing new

    services.store.save_result(first.id, "graded", 5, {"messages": ["Score 5/5"]}, 1.0)
    target.write_bytes(b.read_bytes())
    second = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    target.write_bytes(a.read_bytes())
    third = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    assert services.store.submission(second.id).state == "superseded"
    assert services.store.submission(third.id).state == "graded"
    reused = services.store.result(third.id)
    assert reused.score == 5 and "result is reused" in reused.payload["messages"][-1]
    assert services.store.queue_length() == 0


def test_submit_now_needs_a_complete_file(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    with pytest.raises(NothingToSubmit, match="There is no model"):
        services.intake.submit_now(session, "Q1")
    (Path(session.project_dir) / "Q1" / "mymodel.h5").write_bytes(b"\x89HDF\r\n\x1a\npartial")
    with pytest.raises(NothingToSubmit, match="still being written"):
        services.intake.submit_now(session, "Q1")


def test_any_mtime_never_blocks_a_later_save(services: Services, tmp_path: Path) -> None:
    """Change is decided by content: a future mtime does not hide the next save, a past one does
    not make an old file new, and the save time is when tfexam saw it."""
    import os

    clock = services.clock
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    models.save(models.line_model(trained=False), target)
    os.utime(target, (4_000_000_000, 4_000_000_000))  # the year 2096
    assert services.intake.scan(session, "save") == 1
    first = services.store.latest_submission(session.id, "Q1")
    assert first.saved_at == clock.now()  # observed, not the mtime
    assert services.intake.scan(session, "save") == 0  # same bytes: nothing new

    clock.advance(30)
    models.save(models.line_model(trained=True), target)
    os.utime(target, (1_000_000_000, 1_000_000_000))  # backdated to 2001
    assert services.intake.scan(session, "save") == 1
    second = services.store.latest_submission(session.id, "Q1")
    assert second.id != first.id and second.saved_at == clock.now()


def test_only_verdicts_are_reused_and_the_same_content_is_joined(services: Services,
                                                                   tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    models.save(models.line_model(trained=True), target)
    first_bytes = target.read_bytes()  # snapshots no longer needed are deleted (retention)
    first = services.intake.submit_now(session, "Q1")
    joined = services.intake.submit_now(session, "Q1")  # pressed again while still queued
    assert joined.id == first.id and services.store.queue_length() == 1

    # tfexam's own failure (the grader died) is not the model's verdict: pressing again regrades.
    services.store.save_result(first.id, "crash", 0, {"messages": ["grader died"]}, 1.0)
    again = services.intake.submit_now(session, "Q1")
    assert again.id != first.id and again.state == "queued"
    services.store.save_result(again.id, "graded", 5, {"messages": ["Score 5/5"]}, 2.0)
    assert services.intake.submit_now(session, "Q1").id == again.id  # a verdict stands

    # A save of other bytes, then the first bytes again: the verdict is reused, the crash never.
    models.save(models.line_model(trained=False), target)
    other = services.intake.submit_now(session, "Q1")
    models.save(models.line_model(trained=True), target)
    target.write_bytes(first_bytes)
    back = services.intake.submit_now(session, "Q1")
    assert services.store.submission(other.id).state == "superseded"
    assert services.store.submission(other.id).superseded_by == back.id
    assert services.store.result(back.id).score == 5


def test_a_superseded_submission_points_to_its_successor(services: Services,
                                                          tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    ids = []
    for i in range(3):
        target.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes([i]) * 64)
        ids.append(services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save").id)
    assert [services.store.submission(i).state for i in ids] == [
        "superseded", "superseded", "queued"]
    assert services.store.successor(ids[0]) == ids[2]
    assert services.store.successor(ids[1]) == ids[2]
    assert services.store.successor(ids[2]) is None
