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
