"""From "a complete model file for question Q" to a queued submission.

The file is checked first (`model_files.checked`: regular files only, one name each, links only
inside the project, the question's size limit, a bounded SavedModel folder, a .keras zip's
directory), then copied into the home folder, each file opened once and confined to the project
(`confined_open`: a folder swapped for a link meanwhile is refused, not followed), and the copy is
hashed (and a .keras copy's directory checked again), so what is graded is exactly what was
checked and hashed, and later edits in the IDE cannot change it. A file that fails the checks
becomes a submission with a "refused" Result of its own, which replaces the previous one on
screen. Snapshots no longer needed are deleted (`snapshots.prune`). Every call here touches the
learner's files, so none runs on the API's event loop (the routes that call it are plain `def`s,
which FastAPI runs in a worker thread).

Rules that keep the record honest:
- A save counts by when tfexam observed it (the watcher's last event, or the scan that found it)
  on the trusted clock, never by the file's mtime, which anyone can set.
- Change is decided by content: a file whose bytes equal the question's latest submission is not
  new, whatever its mtime says, and a file with a future mtime never hides a later save.
- Intake is serialised per question, so a save and "Submit and Test" racing each other make one
  submission: the same content already queued or grading is joined, not queued again.
- Only a verdict about the model itself is reused for the same content; a result that says tfexam
  failed (crash, interruption, infrastructure) is never reused: the content is graded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.clock import Clock, iso
from server.config import Settings
from server.errors import TfexamError
from server.grading.trusted.result import Outcome
from server.grading.trusted.supervisor import build_result
from server.sessions import snapshots
from server.store import Store
from server.store.records import QuestionRecord, SessionRecord, SubmissionRecord
from server.store.unrecorded import UnrecordedSave
from server.vocabulary import ResultStatus, SessionState, SubmissionState, Trigger, is_verdict
from server.watch import model_files
from server.watch.model_files import ModelFile, Refused

log = logging.getLogger(__name__)


class NothingToSubmit(TfexamError):
    """Submit and Test found no complete model file to grade."""

    status = 409


class IntakeFailed(TfexamError):
    """tfexam could not take the file (its home is full or read-only): one sentence says so."""

    status = 503

    def __init__(self, sentence: str, reason: str = "") -> None:
        super().__init__(sentence)
        self.reason = reason or sentence


@dataclass(frozen=True)
class Downtime:
    """A stretch when the service was not running: changes made in it have no observed time."""

    began: float | None  # last heartbeat of the previous run (None: no earlier run recorded)
    ended: float          # this run's start

    def sentence(self, question_id: str, deadline: float, counted: int | None) -> str:
        began = iso(self.began) if self.began is not None else "an unknown time"
        kept = (f"the last submission recorded before it (#{counted}) counts" if counted
                else "no model recorded before it counts, so the question scores 0")
        return (f"{question_id}'s model file changed while tfexam was not running (from {began} "
                f"to {iso(self.ended)}), a stretch that ended after the deadline "
                f"({iso(deadline)}): it cannot be shown to have been saved in time, so {kept}.")


def late_sentence(session: SessionRecord, file_name: str, late_by: float,
                  counted: SubmissionRecord | None, counted_score: int | None) -> str:
    """Why a file saved after the cutoff changes nothing, in the words status and report use."""
    seconds = max(1, round(late_by))
    after = (f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s")
    ended = ("the deadline" if session.submitted_at is None or session.submitted_at >= session.deadline
             else "you finished the exam")
    if counted is None:
        kept = "no model was saved in time, so this question scores 0"
    else:
        score = "still being graded" if counted_score is None else f"{counted_score}/5"
        kept = f"the last model saved in time (submission #{counted.id}, {score}) counts"
    return f"{file_name} saved {after} after {ended}: not counted; {kept}."


class Intake:
    def __init__(self, settings: Settings, store: Store, clock: Clock,
                 notify_grader: Callable[[], None]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.notify_grader = notify_grader
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, session_id: str, question_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((session_id, question_id), threading.Lock())

    def limit_bytes(self, question: QuestionRecord) -> int:
        """The question's size limit: its manifest's `max_model_mb`, else the setting."""
        megabytes = question.variant.get("max_model_mb") or self.settings.model_size_limit_mb
        return int(float(megabytes) * 2**20)

    def _snapshot(self, session: SessionRecord, question: QuestionRecord, model: ModelFile) -> Path:
        """Check, then copy. Raises Refused (the learner's sentence) or OSError (tfexam's)."""
        limit = self.limit_bytes(question)
        files = model_files.checked(model, Path(session.project_dir), limit)
        target_dir = self.settings.sessions_dir / session.id / "snapshots" / uuid.uuid4().hex[:12]
        target = target_dir / model.path.name
        try:
            (target if model.format == "savedmodel" else target_dir).mkdir(parents=True)
            model_files.copy_checked(files, target if model.format == "savedmodel" else target_dir,
                                     limit)
            if model.format == "keras":  # the bytes copied, whatever the file held at the check
                with open(target, "rb") as handle:
                    model_files.check_zip_directory(handle, model.path.name)
        except BaseException:
            shutil.rmtree(target_dir, ignore_errors=True)  # a failed copy leaves nothing behind
            raise
        return target

    def _refuse(self, session: SessionRecord, question: QuestionRecord, model: ModelFile,
                trigger: str, reason: str, saved_at: float) -> SubmissionRecord:
        """A file tfexam will not take still gets a submission and a Result of its own, which
        replaces the previous result on screen."""
        sha = "refused-" + hashlib.sha256(f"{model.path}\0{reason}".encode()).hexdigest()
        latest = self.store.latest_submission(session.id, question.question_id)
        if latest is not None and latest.sha256 == sha:
            self.store.set_waiting(session.id, question.question_id, None)
            return latest
        record = SubmissionRecord(
            id=0, session_id=session.id, question_id=question.question_id,
            source_path=str(model.path), snapshot_path="", sha256=sha, format=model.format,
            size_bytes=model_files.fingerprint(model.path).size, saved_at=saved_at,
            detected_at=self.clock.now(), trigger=trigger,
            state=SubmissionState.GRADING,  # never handed to the grader: its result follows now
            attempts=0, grading_started_at=None)
        sub = self.store.add_submission(record, self.clock.now())
        result = build_result(sub, question, Outcome.verdict(ResultStatus.REFUSED, [reason]), 0.0)
        self.store.save_result(sub.id, result.status, 0, result.model_dump(mode="json"),
                               self.clock.now())
        snapshots.prune(self.store, self.settings.sessions_dir, session.id, question.question_id)
        return self.store.submission(sub.id) or sub

    def take(self, session_id: str, question_id: str, model: ModelFile, trigger: str,
             observed_at: float | None = None) -> SubmissionRecord | None:
        """Queue the file, join the same content already pending, or reuse a verdict for it.

        `observed_at` is when tfexam saw the save (the trusted clock's now when omitted). Returns
        the submission that answers for this content; None only if the file vanished meanwhile.
        Raises IntakeFailed when tfexam's own home cannot take the copy.
        """
        saved_at = self.clock.now() if observed_at is None else observed_at
        with self._lock(session_id, question_id):
            held = self.store.unrecorded.of_session(session_id).get(question_id)
            if held is not None and held.path == str(model.path):
                now = model_files.fingerprint(model.path)
                if (now.size, now.newest, now.files) == held.fingerprint:
                    saved_at = min(saved_at, held.observed_at)  # saved when first observed
            try:
                sub = self._take(session_id, question_id, model, trigger, saved_at)
            except IntakeFailed as why:
                self._unrecorded(session_id, question_id, model, trigger, saved_at, why.reason)
                raise
            except sqlite3.Error as why:  # the record itself could not take it (full, locked)
                self._unrecorded(session_id, question_id, model, trigger, saved_at, str(why))
                raise
            if sub is not None:
                self.store.unrecorded.clear(session_id, question_id)
            return sub

    def _unrecorded(self, session_id: str, question_id: str, model: ModelFile, trigger: str,
                    saved_at: float, reason: str) -> None:
        """Remember the save the record could not take: status names it until one is taken."""
        fingerprint = model_files.fingerprint(model.path)
        save = self.store.unrecorded.note(UnrecordedSave(
            session_id=session_id, question_id=question_id, path=str(model.path),
            format=model.format, observed_at=saved_at, reason=reason, trigger=trigger,
            fingerprint=(fingerprint.size, fingerprint.newest, fingerprint.files),
            home=str(self.settings.home)))
        log.warning("%s", save.sentence())

    def take_unrecorded(self) -> int:
        """Try again every save that could not be recorded (a chore, once a second): the same
        file is taken as saved when it was first observed; a file changed since is left to the
        watcher while the exam runs, and after the exam it cannot be shown to be in time.
        Returns how many were recorded."""
        taken = 0
        for save in self.store.unrecorded.all():
            session = self.store.session(save.session_id)
            if session is None:
                self.store.unrecorded.clear(save.session_id, save.question_id)
                continue
            now = model_files.fingerprint(Path(save.path))
            if (now.size, now.newest, now.files) != save.fingerprint:
                if session.state != SessionState.RUNNING:
                    self.store.set_late_note(session.id, save.question_id, (
                        f"{save.sentence()} The file changed after the exam ended, so it was "
                        "not taken."))
                    self.store.unrecorded.clear(save.session_id, save.question_id)
                continue
            try:
                if self.take(save.session_id, save.question_id, ModelFile(Path(save.path),
                             save.format), save.trigger, save.observed_at):
                    taken += 1
            except (IntakeFailed, sqlite3.Error):
                continue  # still no room: the status keeps saying so
        return taken

    def _take(self, session_id: str, question_id: str, model: ModelFile, trigger: str,
              saved_at: float) -> SubmissionRecord | None:
        session = self.store.session(session_id)
        question = self.store.question(session_id, question_id)
        if session is None or question is None:
            return None
        try:
            snapshot = self._snapshot(session, question, model)
        except Refused as why:
            log.info("refused %s: %s", model.path, why)
            return self._refuse(session, question, model, trigger, str(why), saved_at)
        except FileNotFoundError:
            self.store.set_waiting(session_id, question_id, None)
            return None
        except OSError as why:
            self.store.set_waiting(session_id, question_id, None)
            raise IntakeFailed(
                f"tfexam could not copy {model.path.name} into its home folder "
                f"({why.strerror or why}): free some space in {self.settings.home}; tfexam "
                "takes it as soon as there is room.", reason=str(why.strerror or why)) from why
        drop = True
        try:
            sha = model_files.sha256_of(snapshot)
            pending = self.store.pending_with_hash(session_id, question_id, sha)
            if pending is not None:
                self.store.set_waiting(session_id, question_id, None)
                return pending  # the same content is already on its way: join it
            latest = self.store.latest_submission(session_id, question_id)
            if latest is not None and latest.sha256 == sha:
                result = self.store.result(latest.id)
                if result is not None and is_verdict(result.status):
                    self.store.set_waiting(session_id, question_id, None)
                    return latest  # nothing changed, and its verdict stands
            earlier = self.store.latest_submission_with_hash(session_id, question_id, sha)
            earlier_result = self.store.result(earlier.id) if earlier else None
            reusable = earlier_result is not None and is_verdict(earlier_result.status)
            record = SubmissionRecord(
                id=0, session_id=session_id, question_id=question_id, source_path=str(model.path),
                snapshot_path=str(snapshot), sha256=sha, format=model.format,
                size_bytes=model_files.fingerprint(snapshot)[0], saved_at=saved_at,
                detected_at=self.clock.now(), trigger=trigger,
                state=SubmissionState.QUEUED, attempts=0, grading_started_at=None,
            )
            sub = self.store.add_submission(record, self.clock.now())
            drop = False
        finally:
            if drop:
                shutil.rmtree(snapshot.parent, ignore_errors=True)
        if reusable and earlier is not None and earlier_result is not None:
            payload = {**earlier_result.payload, "submission": sub.id, "saved_at": saved_at,
                       "messages": [*earlier_result.payload.get("messages", []),
                                    f"Same file as submission #{earlier.id}: its result is "
                                    "reused."]}
            self.store.save_result(sub.id, earlier_result.status, earlier_result.score, payload,
                                   self.clock.now())
            snapshots.prune(self.store, self.settings.sessions_dir, session_id, question_id)
            return self.store.submission(sub.id)
        self.notify_grader()
        snapshots.prune(self.store, self.settings.sessions_dir, session_id, question_id)
        return sub

    def _learner_hash(self, session: SessionRecord, question: QuestionRecord,
                      model: ModelFile) -> str | None:
        """What the file's snapshot would hash to, read as intake reads it (confined, within the
        question's size limit); None for a file intake would refuse."""
        return model_files.learner_sha256(model, Path(session.project_dir),
                                          self.limit_bytes(question))

    def current_model(self, session: SessionRecord, question: QuestionRecord) -> ModelFile | None:
        """The question's model file as it is now. With several formats present, one whose
        content differs from the last submission of its path wins (mtime is not trusted)."""
        folder = Path(session.project_dir) / question.question_id
        found = [c for c in model_files.candidates(folder, question.model_file)
                 if os.path.lexists(c.path)]  # a FIFO or a dangling link is refused, not missed
        if len(found) <= 1:
            return found[0] if found else None
        recorded = {s.source_path: s.sha256 for s in self.store.submissions(
            session.id, question.question_id)}
        changed = [c for c in found
                   if recorded.get(str(c.path)) != self._learner_hash(session, question, c)]
        return (changed or found)[0]

    def submit_now(self, session: SessionRecord, question_id: str) -> SubmissionRecord:
        """The "Submit and Test" button: grade the question's current file now."""
        question = self.store.question(session.id, question_id)
        if question is None:
            raise KeyError(question_id)
        folder = Path(session.project_dir) / question_id
        model = self.current_model(session, question)
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
        sub = self.take(session.id, question_id, model, Trigger.BUTTON)
        if sub is None:
            raise NothingToSubmit(f"{model.path.name} went away while it was being read: save "
                                  "it again, then submit.")
        return sub

    def changed_files(self, session: SessionRecord) -> list[tuple[QuestionRecord, ModelFile]]:
        """Each question whose complete model file differs in content from its latest record."""
        changed = []
        for question in self.store.questions(session.id):
            model = self.current_model(session, question)
            if model is None or not model_files.is_complete(model):
                continue
            latest = self.store.latest_submission(session.id, question.question_id)
            if latest is not None and latest.sha256 == self._learner_hash(session, question, model):
                continue
            changed.append((question, model))
        return changed

    def scan(self, session: SessionRecord, trigger: str, observed_at: float | None = None) -> int:
        """Queue every question's file that changed since its last record (start-up, a project
        folder that came back, the final submit). `observed_at` caps the save time (the final
        scan stamps a file found at the finish as saved by the cutoff)."""
        queued = 0
        failed: Exception | None = None
        for question, model in self.changed_files(session):
            try:
                if self.take(session.id, question.question_id, model, trigger, observed_at):
                    queued += 1
            except (IntakeFailed, sqlite3.Error) as why:  # noted; the other questions go on
                failed = failed or why
        if failed is not None:
            raise failed
        return queued

    def note_late_save(self, session: SessionRecord, question_id: str, model: ModelFile,
                       observed_at: float) -> str | None:
        """A model saved after the cutoff is never taken, but it is never ignored in silence
        either: the question says when it was saved and that it does not count (status, report,
        the CLI). A file whose content is the question's latest submission changes nothing and
        gets no note. Returns the note, or None."""
        question = self.store.question(session.id, question_id)
        if question is None:
            return None
        with self._lock(session.id, question_id):
            latest = self.store.latest_submission(session.id, question_id)
            if latest is not None and latest.sha256 == self._learner_hash(session, question, model):
                return None
            in_time = [s for s in self.store.submissions(session.id, question_id)
                       if s.state != SubmissionState.SUPERSEDED and s.saved_at <= session.cutoff]
            counted = in_time[-1] if in_time else None
            result = self.store.result(counted.id) if counted else None
            note = late_sentence(session, f"{question_id}/{model.path.name}",
                                 observed_at - session.cutoff, counted,
                                 result.score if result else None)
            self.store.set_late_note(session.id, question_id, note)
            self.store.add_event(session.id, "message", {"question": question_id, "late": note},
                                 self.clock.now())
        log.info("%s", note)
        return note

    def refuse_after_downtime(self, session: SessionRecord, downtime: Downtime) -> int:
        """A deadline passed while the service was down: files changed meanwhile cannot be shown
        to be in time. They are not taken; each question says why (status and report)."""
        noted = 0
        for question, _model in self.changed_files(session):
            in_time = [s for s in self.store.submissions(session.id, question.question_id)
                       if s.state != SubmissionState.SUPERSEDED and s.saved_at <= session.cutoff]
            counted = in_time[-1].id if in_time else None
            note = downtime.sentence(question.question_id, session.deadline, counted)
            self.store.set_late_note(session.id, question.question_id, note)
            log.info("%s", note)
            noted += 1
        return noted
