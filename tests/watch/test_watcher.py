"""Real file-system events through watchdog: a save is handed on once, complete, and only then."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.watch.model_files import ModelFile
from server.watch.watcher import ModelWatcher
from tests.support import models


class Recorder:
    def __init__(self) -> None:
        self.waiting: list[tuple[str, str, bool]] = []
        self.complete: list[tuple[str, str, ModelFile, int]] = []
        self.event = threading.Event()

    def on_waiting(self, session: str, question: str, since: float | None) -> None:
        self.waiting.append((session, question, since is not None))

    def on_complete(self, session: str, question: str, model: ModelFile, observed_at: float
                    ) -> None:
        self.complete.append((session, question, model, model.path.stat().st_size))
        self.event.set()


def _watcher(tmp_path: Path, recorder: Recorder) -> tuple[ModelWatcher, Path]:
    project = tmp_path / "project"
    (project / "Q1").mkdir(parents=True)
    watcher = ModelWatcher(0.4, recorder.on_waiting, recorder.on_complete, give_up_seconds=2.0)
    watcher.watch("s1", project, {"Q1": "mymodel.h5"})
    watcher.start()
    return watcher, project


def test_a_chunked_write_is_handed_on_once_complete(tmp_path: Path) -> None:
    recorder = Recorder()
    watcher, project = _watcher(tmp_path, recorder)
    try:
        data = models.save(models.blobs_model(), tmp_path / "good.h5").read_bytes()
        with open(project / "Q1" / "mymodel.h5", "wb") as handle:
            for i in range(8):
                handle.write(data[i * len(data) // 8:(i + 1) * len(data) // 8])
                handle.flush()
                time.sleep(0.15)
        assert recorder.event.wait(10)
        time.sleep(1.0)
        assert len(recorder.complete) == 1
        session, question, model, size = recorder.complete[0]
        assert (session, question, model.format, size) == ("s1", "Q1", "h5", len(data))
        assert recorder.waiting[0] == ("s1", "Q1", True)
    finally:
        watcher.stop()


def test_other_files_are_ignored_and_broken_ones_handed_on_after_giving_up(tmp_path: Path):
    recorder = Recorder()
    watcher, project = _watcher(tmp_path, recorder)
    try:
        (project / "Q1" / "notes.txt").write_text("not a model")
        (project / "README.md").write_text("x")
        time.sleep(1.0)
        assert recorder.complete == [] and recorder.waiting == []
        started = time.monotonic()
        (project / "Q1" / "mymodel.h5").write_text("garbage")
        assert recorder.event.wait(10)
        assert time.monotonic() - started >= 2.0  # waited for a chance to become complete
    finally:
        watcher.stop()


def test_unwatched_sessions_are_silent(tmp_path: Path) -> None:
    recorder = Recorder()
    watcher, project = _watcher(tmp_path, recorder)
    try:
        watcher.unwatch("s1")
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        time.sleep(1.5)
        assert recorder.complete == []
    finally:
        watcher.stop()


def test_watching_a_project_while_another_is_saved_to_never_stalls(tmp_path: Path) -> None:
    """watchdog calls the handler under its own lock; a watch taken while events flow (a new exam,
    a project folder back) used to wait for that lock while holding ours: both threads stopped
    for good, with no save ever graded again. Before the fix this hung within 200 rounds."""
    recorder = Recorder()
    watcher, project = _watcher(tmp_path, recorder)
    other = tmp_path / "other"
    (other / "Q1").mkdir(parents=True)
    saving = threading.Event()
    rounds_done = threading.Event()

    def save_again_and_again() -> None:
        size = 0
        while not rounds_done.is_set():
            (project / "Q1" / "mymodel.h5").write_bytes(b"x" * (size % 97))
            size += 1
            saving.set()

    def watch_and_unwatch() -> None:
        for _ in range(1000):
            assert watcher.watch("s2", other, {"Q1": "mymodel.h5"})
            watcher.unwatch("s2")
        rounds_done.set()

    saver = threading.Thread(target=save_again_and_again, daemon=True)
    rounds = threading.Thread(target=watch_and_unwatch, daemon=True)
    try:
        saver.start()
        assert saving.wait(5)
        rounds.start()
        assert rounds_done.wait(60), "the watcher stopped: watch() and an event waited on each other"
        assert watcher.watch("s2", other, {"Q1": "mymodel.h5"})
        assert "s2" in watcher.watching()
    finally:
        rounds_done.set()
        # A stalled watcher cannot stop either: stop it aside, so the test fails instead of hanging.
        stopper = threading.Thread(target=watcher.stop, daemon=True)
        stopper.start()
        stopper.join(15)


@pytest.mark.parametrize("mtime", [1_000_000_000.0, 4_000_000_000.0], ids=["2001", "2096"])
def test_a_save_is_stamped_by_the_clock_at_its_event_never_by_its_mtime(
        tmp_path: Path, mtime: float) -> None:
    """A learner can set a file's mtime to anything (`touch -d`); the deadline is judged by when
    the watcher saw the save, on the trusted clock. The clock is moved on once the save's events
    are in, so a stamp taken when the file is handed on (not at its event) fails too."""
    clock = ManualClock(1_900_000_000.0)
    stamps: list[float] = []
    handed_on = threading.Event()

    def on_complete(session: str, question: str, model: ModelFile, observed_at: float) -> None:
        stamps.append(observed_at)
        handed_on.set()

    project = tmp_path / "project"
    (project / "Q1").mkdir(parents=True)
    watcher = ModelWatcher(1.5, lambda *_: None, on_complete, give_up_seconds=3.0, clock=clock)
    watcher.watch("s1", project, {"Q1": "mymodel.h5"})
    watcher.start()
    try:
        data = models.save(models.line_model(), tmp_path / "good.h5").read_bytes()
        target = project / "Q1" / "mymodel.h5"
        target.write_bytes(data)
        os.utime(target, (mtime, mtime))
        time.sleep(0.5)  # the events are in; settling takes 1.5 s more
        clock.advance(1000.0)
        assert handed_on.wait(10)
        assert target.stat().st_mtime == mtime
        assert stamps == [1_900_000_000.0], f"stamped {stamps}, mtime {mtime}"
    finally:
        watcher.stop()
