"""One watchdog observer for every running session's project folder.

Events only say "something changed here"; a settle loop then waits until the model's size and
modification time have not changed for `settle_seconds` and its format opens. When the writer has
closed the file (inotify's close-after-write) and its format opens, a short quiet check replaces the
settle time: that is what keeps save-to-score latency near the grading work itself. A file that
stays unopenable long after it stopped changing is handed on anyway, so a broken file gets a clear
result instead of waiting forever.

A save is stamped with the trusted clock's time of the last event the watcher saw for it (never
the file's mtime). Nothing a callback raises (a locked or full database) reaches watchdog's own
threads or the settle loop: the file stays pending and is handed on again a moment later, and
`health` says what failed. A project folder that disappears is reported missing and watched again
when it comes back (see `Services`).

Events can be missed without a word: past the system's inotify watch limit watchdog skips the
folders below a project silently (and cannot watch a new project at all), a full event queue drops
events, and a network or virtual-machine share sends none. So every few seconds each question's
model files are also compared by `stat` with what was last seen; a change no event announced is
taken as an event then. A folder that cannot be watched at all is still followed this way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from server.clock import Clock
from server.components import Component
from server.watch import model_files
from server.watch.model_files import Fingerprint, ModelFile

log = logging.getLogger(__name__)

OnWaiting = Callable[[str, str, "float | None"], None]
OnComplete = Callable[[str, str, ModelFile, float], None]

CLOSED_QUIET_SECONDS = 0.05
RETRY_SECONDS = 0.5
POLL_SECONDS = 2.0


@dataclass
class _Watched:
    project_dir: Path
    model_files: dict[str, str]  # question id -> model file name
    handle: ObservedWatch | None  # None: watchdog could not watch it; followed by polling only
    seen: dict[Path, Fingerprint | None] = field(default_factory=dict)
    last_event: dict[str, float] = field(default_factory=dict)  # question -> monotonic time


def _fingerprints(project_dir: Path, questions: dict[str, str]
                  ) -> dict[Path, Fingerprint | None]:
    """Every place a question's model can be, with its stat fingerprint (None: nothing there)."""
    found: dict[Path, Fingerprint | None] = {}
    for question_id, model_file in questions.items():
        for candidate in model_files.candidates(project_dir / question_id, model_file):
            there = os.path.lexists(candidate.path)
            found[candidate.path] = model_files.fingerprint(candidate.path) if there else None
    return found


@dataclass
class _Pending:
    model: ModelFile
    fingerprint: tuple[int, float, int]
    stable_since: float  # monotonic: only for the settle arithmetic
    observed_at: float   # trusted clock: the last event seen for this file
    closed: bool = False
    retry_after: float = 0.0  # monotonic; set when handing the file on failed
    events: int = 0  # events seen; a save during the hand-on keeps the file pending


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ModelWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        closed = event.event_type == "closed" or event.event_type == "moved"
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                try:
                    self.watcher.touched(Path(str(raw)), closed=closed and not event.is_directory)
                except Exception:  # watchdog's thread must never die of one event
                    log.exception("watch event for %s failed", raw)


class ModelWatcher:
    def __init__(self, settle_seconds: float, on_waiting: OnWaiting, on_complete: OnComplete,
                 give_up_seconds: float | None = None, clock: Clock | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        from server.clock import TrustedClock

        self.settle_seconds = settle_seconds
        self.give_up_seconds = max(give_up_seconds or 10.0, 2 * settle_seconds)
        self.poll_seconds = poll_seconds
        self._next_poll = 0.0  # monotonic
        self._last_poll = time.monotonic()  # when the fingerprints last seen were taken
        self.on_waiting = on_waiting
        self.on_complete = on_complete
        self.clock = clock or TrustedClock()
        self.health = Component("watcher")
        self._observer = Observer()
        self._handler = _Handler(self)
        self._sessions: dict[str, _Watched] = {}
        self._pending: dict[tuple[str, str], _Pending] = {}
        # Unwatch calls per session: a watch that raced an unwatch sees the count change.
        self._epochs: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._settle_loop, name="settle", daemon=True)

    def start(self) -> None:
        self._observer.start()
        self._thread.start()
        self.health.ok()

    def stop(self) -> None:
        self._stop.set()
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.health.stopped()

    @property
    def alive(self) -> bool:
        return self._observer.is_alive() and self._thread.is_alive()

    def watch(self, session_id: str, project_dir: Path, questions: dict[str, str]) -> bool:
        """Follow a project folder. True: file-system events come. False: watchdog could not
        watch it (a system limit); it is then polled, and calling again tries events again.

        watchdog calls our handler while holding its observer's lock, and the handler takes ours;
        so ours is never held while asking watchdog for anything (else a save in one project
        while another is watched again would stop both threads for good). An unwatch that comes
        while watchdog is being asked wins: the new watch is dropped at once."""
        with self._lock:
            known = self._sessions.get(session_id)
            if known is not None and known.handle is not None:
                return True
            epoch = self._epochs.get(session_id, 0)
        seen = _fingerprints(project_dir.resolve(), questions) if known is None else {}
        handle: ObservedWatch | None
        try:
            handle = self._observer.schedule(self._handler, str(project_dir), recursive=True)
        except Exception as why:  # a limit (OSError) or watchdog's own bookkeeping
            log.warning("cannot watch %s (%s): looking at its model files every %g s instead",
                        project_dir, why, self.poll_seconds)
            handle = None
        with self._lock:
            cancelled = self._epochs.get(session_id, 0) != epoch
            current = self._sessions.get(session_id)
            if cancelled:
                pass
            elif current is None:
                self._sessions[session_id] = _Watched(project_dir.resolve(), questions, handle,
                                                      seen)
            elif current.handle is None:
                current.handle = handle
        if cancelled and handle is not None:
            self._unschedule(handle)
        return handle is not None and not cancelled

    def unwatch(self, session_id: str) -> None:
        with self._lock:
            self._epochs[session_id] = self._epochs.get(session_id, 0) + 1
            watched = self._sessions.pop(session_id, None)
            for key in [k for k in self._pending if k[0] == session_id]:
                del self._pending[key]
        if watched and watched.handle is not None:
            self._unschedule(watched.handle)

    def _unschedule(self, handle: ObservedWatch) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._observer.unschedule(handle)

    def watching(self) -> list[str]:
        """Sessions whose folder sends file-system events."""
        with self._lock:
            return [sid for sid, w in self._sessions.items() if w.handle is not None]

    def polled(self) -> list[str]:
        """Sessions whose folder could not be watched: followed by polling alone."""
        with self._lock:
            return sorted(sid for sid, w in self._sessions.items() if w.handle is None)

    def folders(self) -> dict[str, Path]:
        """Every followed session's folder, watched or polled."""
        with self._lock:
            return {sid: w.project_dir for sid, w in self._sessions.items()}

    def _locate(self, path: Path) -> tuple[str, str, ModelFile] | None:
        """(session, question, model) that a changed path belongs to, if any. Caller holds _lock."""
        for session_id, watched in self._sessions.items():
            try:
                relative = path.relative_to(watched.project_dir)
            except ValueError:
                continue
            question_id = relative.parts[0] if relative.parts else ""
            model_file = watched.model_files.get(question_id)
            if model_file is None:
                return None
            model = model_files.match(path, watched.project_dir / question_id, model_file)
            return (session_id, question_id, model) if model else None
        return None

    def touched(self, path: Path, closed: bool = False, polled: bool = False) -> None:
        """A file-system event (or, `polled`, a change found by the poll) for `path`."""
        now = self.clock.now()
        with self._lock:
            found = self._locate(path)
            if found is None:
                return
            session_id, question_id, model = found
            if not polled:
                self._sessions[session_id].last_event[question_id] = time.monotonic()
            key = (session_id, question_id)
            pending = self._pending.get(key)
            first = pending is None or pending.model != model
            if pending is None or first:
                pending = self._pending[key] = _Pending(model, (-1, 0.0, 0), time.monotonic(), now)
            pending.observed_at = now
            pending.events += 1
            # A close marks the end of a write only for a single-file model.
            pending.closed = closed and model.format != "savedmodel"
        if first:
            self._call(self.on_waiting, session_id, question_id, now)

    def _call(self, callback: Callable[..., None], *args: object) -> bool:
        """Run a callback; a failure is reported in health and logged, never raised here."""
        try:
            callback(*args)
        except Exception as error:
            self.health.failed(f"{type(error).__name__}: {error}")
            log.warning("watcher callback %s%s failed: %s", getattr(callback, "__name__", ""),
                        args[:2], error)
            return False
        return True

    def _settle_loop(self) -> None:
        while not self._stop.wait(min(0.05, self.settle_seconds / 4)):
            if time.monotonic() >= self._next_poll:
                try:
                    self._poll()
                except Exception as error:  # the loop outlives anything one folder does
                    self.health.failed(f"{type(error).__name__}: {error}")
                    log.exception("polling the project folders failed")
                self._next_poll = time.monotonic() + self.poll_seconds
            with self._lock:
                items = list(self._pending.items())
            for key, pending in items:
                try:
                    self._check(key, pending)
                except Exception as error:  # the loop outlives anything one file does
                    self.health.failed(f"{type(error).__name__}: {error}")
                    log.exception("settle check failed for %s", key)

    def _poll(self) -> None:
        """Compare every question's model files with the last poll; a change that no event
        announced since that poll is taken as an event now (see the module's docstring)."""
        previous_poll, self._last_poll = self._last_poll, time.monotonic()
        with self._lock:
            followed = list(self._sessions.values())
        for watched in followed:
            now = _fingerprints(watched.project_dir, watched.model_files)
            for path, print_now in now.items():
                if print_now == watched.seen.get(path) or print_now is None:
                    continue
                question_id = path.relative_to(watched.project_dir).parts[0]
                with self._lock:
                    announced = watched.last_event.get(question_id, -1.0) >= previous_poll
                    pending = any(p.model.path == path for k, p in self._pending.items()
                                  if watched is self._sessions.get(k[0]))
                if not (announced or pending):
                    log.info("a change to %s came without a file-system event: taking it now",
                             path)
                    self.touched(path, polled=True)
            watched.seen = now

    def _check(self, key: tuple[str, str], pending: _Pending) -> None:
        now = time.monotonic()
        if now < pending.retry_after:
            return
        current = model_files.fingerprint(pending.model.path)
        if current != pending.fingerprint:
            pending.fingerprint, pending.stable_since = current, now
            return
        if current[2] == 0:  # the file went away (deleted or renamed): nothing to grade
            if self._drop(key, pending):
                self._call(self.on_waiting, key[0], key[1], None)
            return
        quiet = now - pending.stable_since
        closed_and_whole = (pending.closed and quiet >= CLOSED_QUIET_SECONDS
                            and model_files.is_complete(pending.model))
        if not closed_and_whole:
            if quiet < self.settle_seconds:
                return
            if not (model_files.is_complete(pending.model) or quiet >= self.give_up_seconds):
                return
        self._hand_on(key, pending)

    def _hand_on(self, key: tuple[str, str], pending: _Pending) -> None:
        """Give the settled file to intake; on failure keep it pending and try again shortly."""
        with self._lock:
            if self._pending.get(key) is not pending:
                return
            seen = pending.events
        if self._call(self.on_complete, key[0], key[1], pending.model, pending.observed_at):
            self.health.ok()
            with self._lock:
                if self._pending.get(key) is pending and pending.events == seen:
                    del self._pending[key]
                else:  # saved again meanwhile: settle and hand on the newer bytes too
                    pending.fingerprint = (-1, 0.0, 0)
        else:
            pending.retry_after = time.monotonic() + RETRY_SECONDS

    def _drop(self, key: tuple[str, str], pending: _Pending) -> bool:
        with self._lock:
            if self._pending.get(key) is pending:
                del self._pending[key]
                return True
            return False
