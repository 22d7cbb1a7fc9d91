"""Intake's part of the sandbox issue: a file tfexam will not take gets a Result of its own (which
replaces the previous one on screen), nothing is copied before the checks, and snapshots are kept
only while needed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from server.services import Services
from server.sessions import snapshots
from server.sessions.status import session_status
from server.watch.model_files import ModelFile
from tests.support import models
from tests.support.opens import OpenWatch


def _snapshot_dirs(services: Services, session_id: str) -> set[str]:
    root = services.settings.sessions_dir / session_id / "snapshots"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def _q1(services: Services, session_id: str) -> dict:
    session = services.store.session(session_id)
    status = session_status(services.store, session, services.clock.now())
    return next(q for q in status["questions"] if q["id"] == "Q1")


def test_a_fifo_gets_its_own_result_replacing_the_previous_one(services: Services,
                                                               tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    models.save(models.line_model(), target)
    good = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    services.store.save_result(good.id, "graded", 5, {"messages": ["Score 5/5"]}, 1.0)
    assert _q1(services, session.id)["score"] == 5

    target.unlink()
    os.mkfifo(target)
    refused = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    assert refused.id != good.id and refused.state == "error"
    result = services.store.result(refused.id)
    assert result.status == "refused" and "is a FIFO (named pipe)" in result.payload["messages"][0]
    q1 = _q1(services, session.id)
    assert q1["state"] == "error" and "FIFO" in q1["message"]  # what the screen shows now
    again = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    assert again.id == refused.id  # the same refusal is not recorded twice
    assert services.store.queue_length() == 0


def test_a_device_gets_its_own_result_and_is_never_opened(services: Services,
                                                          tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    try:
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("creating a device needs root (CI runs as root)")
    watch = OpenWatch(target)
    try:
        refused = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
        assert watch.opens() == 0  # refused from lstat alone
        open(target, "rb").close()
        assert watch.opens() == 1  # the watch does see an open
    finally:
        watch.close()
    assert refused.state == "error"
    result = services.store.result(refused.id)
    assert result.status == "refused"
    assert "mymodel.h5 is a device, not a model file" in result.payload["messages"][0]
    q1 = _q1(services, session.id)
    assert q1["state"] == "error" and "is a device" in q1["message"]
    assert _snapshot_dirs(services, session.id) == set()  # nothing copied
    assert services.store.queue_length() == 0


def test_an_oversized_file_is_refused_before_any_copy(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    with open(target, "wb") as handle:
        handle.truncate(2**30)  # a 1 GB sparse file
    before = _snapshot_dirs(services, session.id)
    refused = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
    assert "1024 MB, more than this question takes (16 MB)" in \
        services.store.result(refused.id).payload["messages"][0]
    assert _snapshot_dirs(services, session.id) == before


def test_snapshots_are_kept_only_while_needed(services: Services, tmp_path: Path) -> None:
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=10)
    target = Path(session.project_dir) / "Q1" / "mymodel.h5"
    ids = []
    for i in range(4):
        models.save(models.line_model(weight=float(i), bias=0.0), target)
        sub = services.intake.take(session.id, "Q1", ModelFile(target, "h5"), "save")
        ids.append(sub.id)
        if i < 2:  # the first two are graded; the third is superseded while queued
            services.store.claim_next_job(services.clock.now())
            services.store.save_result(sub.id, "graded", 1, {"messages": ["Score 1/5"]}, 1.0)
            snapshots.prune(services.store, services.settings.sessions_dir, session.id, "Q1")
    kept = _snapshot_dirs(services, session.id)
    assert len(kept) == 1  # the latest (queued) only: graded and superseded ones are gone
    assert Path(services.store.submission(ids[-1]).snapshot_path).parent.name in kept
    assert not Path(services.store.submission(ids[0]).snapshot_path).exists()
