"""Issue 22, item 8, through intake: a hard link and a file rewritten between the check and the
copy each end as a "refused" Result with one sentence, and nothing of theirs is queued. Files
made at test time (no TensorFlow, no sandbox)."""

from __future__ import annotations

import os
from pathlib import Path

from server.services import Services
from server.watch import model_files
from server.watch.model_files import ModelFile
from tests.sessions.conftest import small_keras
from tests.support import attacks
from tests.support.opens import OpenWatch


def test_a_hard_link_gets_a_refused_result(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    outside = small_keras(tmp_path / "elsewhere.keras")
    target = Path(session.project_dir) / "Q2" / "mymodel.keras"
    os.link(outside, target)
    refused = services.intake.take(session.id, "Q2", ModelFile(target, "keras"), "save")
    result = services.store.result(refused.id)
    assert result.status == "refused", result
    assert "mymodel.keras is a hard link" in result.payload["messages"][0]
    assert services.store.queue_length() == 0


def test_a_keras_file_rewritten_after_its_check_is_checked_again_from_the_copy(
        services: Services, tmp_path: Path, monkeypatch) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = small_keras(Path(session.project_dir) / "Q2" / "mymodel.keras")
    bomb = attacks.zip_bomb_keras(small_keras(tmp_path / "good.keras"), tmp_path / "bomb.keras",
                                  unpacked_mb=300)
    real_copy = model_files.copy_checked

    def rewritten_first(files, destination, limit):  # the race, made certain: same file, new bytes
        with open(target, "r+b") as handle:
            handle.truncate(0)
            handle.write(bomb.read_bytes())
        return real_copy(files, destination, limit)

    monkeypatch.setattr(model_files, "copy_checked", rewritten_first)
    refused = services.intake.take(session.id, "Q2", ModelFile(target, "keras"), "save")
    result = services.store.result(refused.id)
    assert result is not None and result.status == "refused", result
    assert "is a zip bomb" in result.payload["messages"][0]
    assert services.store.queue_length() == 0
    snapshots = services.settings.sessions_dir / session.id / "snapshots"
    assert not list(snapshots.glob("*/mymodel.keras"))  # the copy was not kept


def test_comparing_a_learner_file_reads_it_as_intake_does(services: Services,
                                                          tmp_path: Path) -> None:
    """Which of several saves changed is decided by hashing them; that read is intake's own
    (confined, within the size limit): a 2 GB file over the 16 MB limit is never opened."""
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    folder = Path(session.project_dir) / "Q2"
    huge = folder / "mymodel.h5"
    with open(huge, "wb") as handle:
        handle.truncate(2 * 2**30)  # sparse: 2 GB of zeros on paper
    small = small_keras(folder / "mymodel.keras")
    watch = OpenWatch(huge)
    try:
        question = services.store.question(session.id, "Q2")
        assert services.intake.current_model(session, question) is not None
        assert watch.opens() == 0
    finally:
        watch.close()
    taken = services.intake.take(session.id, "Q2", ModelFile(small, "keras"), "save")
    snapshot = Path(taken.snapshot_path)
    limit = services.intake.limit_bytes(question)
    assert model_files.learner_sha256(ModelFile(small, "keras"), Path(session.project_dir),
                                      limit) == model_files.sha256_of(snapshot) == taken.sha256
