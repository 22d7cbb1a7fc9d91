"""Saves the record could not take (tfexam's home full or read-only), kept in memory until it can.

The disk that holds the record is the one that is full, so these are not written anywhere: the
running service holds, per question, the newest file it saw and could not record, when it saw it
and why it failed. Status (and with it the card, `tfexam status` and `time`, the extension and the
exam page) names the question until a save of it is recorded; a chore takes the file as soon as
there is room, as saved when it was observed (issue 17).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class UnrecordedSave:
    session_id: str
    question_id: str
    path: str
    format: str
    observed_at: float     # trusted clock: when tfexam saw the save it could not record
    reason: str            # the system's words (No space left on device, ...)
    trigger: str
    fingerprint: tuple[int, float, int]  # the file as it was then: size, newest mtime, files
    home: str

    def sentence(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        seen = datetime.fromtimestamp(self.observed_at, tz=timezone.utc).strftime("%H:%M:%S UTC")
        return (f"{self.question_id}'s save of {name} at {seen} could not be recorded "
                f"({self.reason}): free some space in {self.home}; tfexam takes it as soon as "
                f"there is room, as saved at {seen}, and until then the score shown is the "
                "previous one.")

    def as_dict(self) -> dict[str, object]:
        return {"question": self.question_id, "path": self.path, "reason": self.reason,
                "observed_at": datetime.fromtimestamp(self.observed_at, tz=timezone.utc)
                .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "message": self.sentence()}


class UnrecordedSaves:
    """Thread-safe: the watcher's thread, the API's threads and the sweeper's chores all use it."""

    def __init__(self) -> None:
        self._saves: dict[tuple[str, str], UnrecordedSave] = {}
        self._lock = threading.Lock()

    def note(self, save: UnrecordedSave) -> UnrecordedSave:
        """Remember the question's newest unrecorded file. The same file seen again (same path
        and fingerprint) keeps its first observation: that is when it was saved."""
        key = (save.session_id, save.question_id)
        with self._lock:
            known = self._saves.get(key)
            if (known is not None and known.path == save.path
                    and known.fingerprint == save.fingerprint):
                save = UnrecordedSave(**{**save.__dict__, "observed_at": min(
                    known.observed_at, save.observed_at)})
            self._saves[key] = save
            return save

    def clear(self, session_id: str, question_id: str) -> None:
        with self._lock:
            self._saves.pop((session_id, question_id), None)

    def of_session(self, session_id: str) -> dict[str, UnrecordedSave]:
        with self._lock:
            return {q: s for (sid, q), s in self._saves.items() if sid == session_id}

    def all(self) -> list[UnrecordedSave]:
        with self._lock:
            return list(self._saves.values())
