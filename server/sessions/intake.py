"""From "a complete model file for question Q" to a queued submission.

The file is copied into the home folder first and the copy is hashed, so what is graded is exactly
what was hashed, and later edits in the IDE cannot change it. A content already graded for the
question is not graded again: its result is reused and it becomes the latest submission.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from server.clock import Clock
from server.config import Settings
from server.store import Store
from server.store.records import SessionRecord, SubmissionRecord
from server.watch import model_files
from server.watch.model_files import ModelFile

log = logging.getLogger(__name__)


class NothingToSubmit(Exception):
    status = 409


class Intake:
    def __init__(self, settings: Settings, store: Store, clock: Clock,
                 notify_grader: Callable[[], None]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.notify_grader = notify_grader

    def _snapshot(self, session_id: str, model: ModelFile) -> Path:
        target_dir = self.settings.sessions_dir / session_id / "snapshots" / uuid.uuid4().hex[:12]
        target_dir.mkdir(parents=True)
        target = target_dir / model.path.name
        if model.format == "savedmodel":
            shutil.copytree(model.path, target)
        else:
            shutil.copy2(model.path, target)
        return target

    def take(self, session_id: str, question_id: str, model: ModelFile, trigger: str
             ) -> SubmissionRecord | None:
        """Queue the file (or reuse a result for the same content); None if nothing changed."""
        saved_at = model_files.fingerprint(model.path)[1]
        try:
            snapshot = self._snapshot(session_id, model)
        except OSError as why:
            log.warning("could not copy %s: %s", model.path, why)
            self.store.set_waiting(session_id, question_id, None)
            return None
        sha = model_files.sha256_of(snapshot)
        latest = self.store.latest_submission(session_id, question_id)
        if latest is not None and latest.sha256 == sha:
            shutil.rmtree(snapshot.parent, ignore_errors=True)
            self.store.set_waiting(session_id, question_id, None)
            return latest
        earlier = self.store.latest_submission_with_hash(session_id, question_id, sha)
        record = SubmissionRecord(
            id=0, session_id=session_id, question_id=question_id, source_path=str(model.path),
            snapshot_path=str(snapshot), sha256=sha, format=model.format,
            size_bytes=model_files.fingerprint(snapshot)[0], saved_at=saved_at,
            detected_at=self.clock.now(), trigger=trigger, state="queued", attempts=0,
            grading_started_at=None,
        )
        sub = self.store.add_submission(record, self.clock.now())
        reused = self.store.result(earlier.id) if earlier else None
        if reused is not None:
            payload = {**reused.payload, "submission": sub.id, "saved_at": saved_at,
                       "messages": [*reused.payload.get("messages", []),
                                    f"Same file as submission #{earlier.id}: its result is reused."]}
            self.store.save_result(sub.id, reused.status, reused.score, payload, self.clock.now())
        else:
            self.notify_grader()
        return sub

    def submit_now(self, session: SessionRecord, question_id: str) -> SubmissionRecord:
        """The "Submit and Test" button: grade the question's current file now."""
        question = self.store.question(session.id, question_id)
        if question is None:
            raise KeyError(question_id)
        folder = Path(session.project_dir) / question_id
        model = model_files.present(folder, question.model_file)
        if model is None:
            raise NothingToSubmit(
                f"There is no model in {folder}: run the starter so that it saves "
                f"{question.model_file} there (or {Path(question.model_file).stem}.keras, or a "
                f"SavedModel folder {Path(question.model_file).stem}/), then submit."
            )
        if not model_files.is_complete(model):
            raise NothingToSubmit(
                f"{model.path.name} is still being written or is not a complete model file: wait "
                "for the save to finish, or save it again, then submit."
            )
        sub = self.take(session.id, question_id, model, "button")
        assert sub is not None
        return sub

    def scan(self, session: SessionRecord, trigger: str, cutoff: float | None = None) -> int:
        """Queue every question's current file that was not seen yet (start-up, final submit)."""
        queued = 0
        for question in self.store.questions(session.id):
            model = model_files.present(Path(session.project_dir) / question.question_id,
                                        question.model_file)
            if model is None or not model_files.is_complete(model):
                continue
            if cutoff is not None and model_files.fingerprint(model.path)[1] > cutoff:
                continue
            latest = self.store.latest_submission(session.id, question.question_id)
            if latest is not None and latest.saved_at >= model_files.fingerprint(model.path)[1]:
                continue
            if self.take(session.id, question.question_id, model, trigger):
                queued += 1
        return queued
