"""One watchdog observer for every running session's project folder.

Events only say "something changed here"; a settle loop then waits until the model's size and
modification time have not changed for `settle_seconds` and its format opens. When the writer has
closed the file (inotify's close-after-write) and its format opens, a short quiet check replaces the
settle time: that is what keeps save-to-score latency near the grading work itself. A file that
stays unopenable long after it stopped changing is handed on anyway, so a broken file gets a clear
result instead of waiting forever.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from server.watch import model_files
from server.watch.model_files import ModelFile

log = logging.getLogger(__name__)

OnWaiting = Callable[[str, str, "float | None"], None]
OnComplete = Callable[[str, str, ModelFile], None]


@dataclass
class _Watched:
    project_dir: Path
    model_files: dict[str, str]  # question id -> model file name
    handle: ObservedWatch


@dataclass
class _Pending:
    model: ModelFile
    fingerprint: tuple[int, float, int]
    stable_since: float
    closed: bool = False


CLOSED_QUIET_SECONDS = 0.05


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ModelWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        closed = event.event_type == "closed" or event.event_type == "moved"
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.touched(Path(str(raw)), closed=closed and not event.is_directory)


class ModelWatcher:
    def __init__(self, settle_seconds: float, on_waiting: OnWaiting, on_complete: OnComplete,
                 give_up_seconds: float | None = None) -> None:
        self.settle_seconds = settle_seconds
        self.give_up_seconds = max(give_up_seconds or 10.0, 2 * settle_seconds)
        self.on_waiting = on_waiting
        self.on_complete = on_complete
        self._observer = Observer()
        self._handler = _Handler(self)
        self._sessions: dict[str, _Watched] = {}
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._settle_loop, name="settle", daemon=True)

    def start(self) -> None:
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._observer.stop()
        self._observer.join(timeout=5)

    def watch(self, session_id: str, project_dir: Path, questions: dict[str, str]) -> None:
        with self._lock:
            if session_id in self._sessions:
                return
            handle = self._observer.schedule(self._handler, str(project_dir), recursive=True)
            self._sessions[session_id] = _Watched(project_dir.resolve(), questions, handle)

    def unwatch(self, session_id: str) -> None:
        with self._lock:
            watched = self._sessions.pop(session_id, None)
            for key in [k for k in self._pending if k[0] == session_id]:
                del self._pending[key]
        if watched:
            with contextlib.suppress(KeyError, ValueError):
                self._observer.unschedule(watched.handle)

    def watching(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def touched(self, path: Path, closed: bool = False) -> None:
        with self._lock:
            for session_id, watched in self._sessions.items():
                try:
                    relative = path.relative_to(watched.project_dir)
                except ValueError:
                    continue
                question_id = relative.parts[0] if relative.parts else ""
                model_file = watched.model_files.get(question_id)
                if model_file is None:
                    return
                model = model_files.match(path, watched.project_dir / question_id, model_file)
                if model is None:
                    return
                key = (session_id, question_id)
                pending = self._pending.get(key)
                first = pending is None or pending.model != model
                if first:
                    pending = self._pending[key] = _Pending(model, (-1, 0.0, 0), time.monotonic())
                # A close marks the end of a write only for a single-file model.
                pending.closed = closed and model.format != "savedmodel"  # type: ignore[union-attr]
                break
            else:
                return
        if first:
            self.on_waiting(session_id, question_id, time.time())

    def _settle_loop(self) -> None:
        while not self._stop.wait(min(0.05, self.settle_seconds / 4)):
            with self._lock:
                items = list(self._pending.items())
            for key, pending in items:
                try:
                    self._check(key, pending)
                except Exception:
                    log.exception("settle check failed for %s", key)

    def _check(self, key: tuple[str, str], pending: _Pending) -> None:
        now = time.monotonic()
        current = model_files.fingerprint(pending.model.path)
        if current != pending.fingerprint:
            pending.fingerprint, pending.stable_since = current, now
            return
        if current[2] == 0:  # the file went away (deleted or renamed): nothing to grade
            self._drop(key, pending)
            self.on_waiting(key[0], key[1], None)
            return
        quiet = now - pending.stable_since
        if pending.closed and quiet >= CLOSED_QUIET_SECONDS and model_files.is_complete(pending.model):
            if self._drop(key, pending):
                self.on_complete(key[0], key[1], pending.model)
            return
        if quiet < self.settle_seconds:
            return
        ready = model_files.is_complete(pending.model) or quiet >= self.give_up_seconds
        if ready and self._drop(key, pending):
            self.on_complete(key[0], key[1], pending.model)

    def _drop(self, key: tuple[str, str], pending: _Pending) -> bool:
        with self._lock:
            if self._pending.get(key) is pending:
                del self._pending[key]
                return True
            return False
