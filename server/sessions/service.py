"""Create and finish sessions.

Finishing is idempotent and can be called by the learner, the sweeper and start-up recovery at
once: the store's conditional update decides who wins, and the loser does nothing.
"""

from __future__ import annotations

import errno
import logging
import secrets
import sqlite3
from pathlib import Path
from typing import Protocol

from server.clock import Clock
from server.config import Settings
from server.errors import TfexamError
from server.manifest import Exam, list_exams
from server.names import NAME_MAX_BYTES, BadName, check_folder_request, excerpt
from server.sessions.leftovers import PARTIAL_SUFFIX, intents_dir
from server.sessions.partial import Partial
from server.store import Store
from server.store.records import QuestionRecord, SessionRecord
from server.vocabulary import SessionState, SubmitReason
from server.workspace.draw import NoVariantAvailable, draw_and_prepare
from server.workspace.keras_env import DEFAULT_KERAS, check_mode
from server.workspace.materialise import WorkspaceNotEmpty, check_project_dir, write_project

log = logging.getLogger(__name__)

MAX_PRACTICE_MINUTES = 24 * 60
# The project is built next to its folder as ".<name>.tfexam-<12 hex>.partial", then renamed in.
PARTIAL_NAME_EXTRA = len(".") + len(".tfexam-") + 12 + len(PARTIAL_SUFFIX)


def check_room_for_partial(name: str) -> None:
    """A folder name the file system takes may still be too long for the name tfexam builds the
    project under first; refused up front with the limit that applies."""
    room = NAME_MAX_BYTES - PARTIAL_NAME_EXTRA
    size = len(name.encode("utf-8"))
    if size > room:
        raise BadName(f"The folder name {excerpt(name)} is {size} bytes long, more than the {room} "
                      "tfexam can use (it builds the project next to it under a slightly longer "
                      "name first); choose a shorter name.")


class SessionError(TfexamError):
    """A request the learner can correct; `status` is the HTTP status it maps to."""

    status = 400


class UnknownExam(SessionError):
    status = 404


class UnknownSession(SessionError):
    status = 404


class SessionClosed(SessionError):
    """The session was already submitted: nothing more can change it."""

    status = 409


class BadWorkspace(SessionError):
    status = 409


class DataUnavailable(SessionError):
    status = 503


class CannotCreate(SessionError):
    """The disk is full or a folder is read-only: nothing was made, one sentence says why."""

    status = 507


class SessionHooks(Protocol):
    def session_started(self, session: SessionRecord) -> None: ...

    def session_submitted(self, session: SessionRecord) -> None: ...


class SessionService:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.hooks: list[SessionHooks] = []

    # exams ------------------------------------------------------------------------------------
    def exams(self) -> dict[str, Exam]:
        return list_exams(self.settings.exams_dir)

    def exam(self, exam_id: str) -> Exam:
        exam = self.exams().get(exam_id)
        if exam is None:
            known = ", ".join(sorted(self.exams())) or "none"
            raise UnknownExam(f"There is no exam called '{excerpt(exam_id)}'; the exams are: {known}.")
        return exam

    # lifecycle --------------------------------------------------------------------------------
    def create(self, exam_id: str, workspace: str, minutes: float | None = None,
               keras: str = DEFAULT_KERAS) -> SessionRecord:
        exam = self.exam(exam_id)
        try:
            check_mode(keras)
        except ValueError as why:
            raise SessionError(str(why)) from why
        if minutes is not None and not (0 < minutes <= MAX_PRACTICE_MINUTES):
            raise SessionError(
                f"minutes must be more than 0 and at most {MAX_PRACTICE_MINUTES}; got {minutes}."
            )
        if not workspace or not workspace.strip():
            raise BadWorkspace("Give the folder where the project should be created.")
        try:
            project_dir = Path(check_folder_request(workspace)).expanduser().resolve()
            # Again once resolved: "~" or a link may lead to a longer or non-UTF-8 path.
            check_folder_request(str(project_dir))
            check_room_for_partial(project_dir.name)
            check_project_dir(project_dir)
        except BadName as why:
            raise BadWorkspace(str(why)) from why
        except WorkspaceNotEmpty as why:
            raise BadWorkspace(str(why)) from why
        except (OSError, RuntimeError) as why:  # a name too long once resolved, a link loop, …
            reason = getattr(why, "strerror", None) or str(why)
            raise BadWorkspace(f"The folder {excerpt(workspace)} cannot be used ({reason}); "
                               "choose another new or empty folder.") from why

        session_id = secrets.token_hex(6)
        seed = secrets.randbelow(2**31)
        session_home = self.settings.sessions_dir / session_id
        partial = Partial(
            session=session_id,
            project_final=project_dir,
            project_partial=project_dir.parent / f".{project_dir.name}.tfexam-{session_id}"
                                                 f"{PARTIAL_SUFFIX}",
            home_final=session_home,
            home_partial=self.settings.sessions_dir / f".{session_id}{PARTIAL_SUFFIX}",
        )
        try:
            partial.begin(intents_dir(self.settings))
            session, questions = self._build(exam, partial, seed, minutes, keras)
            partial.rename_in()
            self.store.create_session(session, questions, session.started_at)
        except NoVariantAvailable as why:
            partial.undo()
            raise DataUnavailable(str(why)) from why
        except WorkspaceNotEmpty as why:
            partial.undo()
            raise BadWorkspace(str(why)) from why
        except OSError as why:
            partial.undo()
            if why.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR):
                raise BadWorkspace(f"The folder {excerpt(str(project_dir))} cannot be made "
                                   f"({why.strerror}); nothing was left behind: choose a shorter "
                                   "or plainer path.") from why
            raise CannotCreate(
                f"The session could not be created ({why.strerror or why}); nothing was left "
                f"behind: free some space, or check that {excerpt(str(project_dir.parent))} and "
                f"{self.settings.home} can be written, then start again.") from why
        except sqlite3.Error as why:
            partial.undo()
            reason = getattr(why, "strerror", None) or str(why)
            raise CannotCreate(
                f"The session could not be created ({reason}); nothing was left behind: free "
                f"some space, or check that {project_dir.parent} and {self.settings.home} can be "
                "written, then start again.") from why
        except BaseException:
            partial.undo()
            raise
        partial.done()
        for hook in self.hooks:
            hook.session_started(session)
        return session

    def _build(self, exam: Exam, partial: Partial, seed: int, minutes: float | None,
               keras: str = DEFAULT_KERAS) -> tuple[SessionRecord, list[QuestionRecord]]:
        """Everything of the new session, built in its partial folders (nothing final yet)."""
        session_id = partial.session
        drawn = draw_and_prepare(
            exam,
            partial.project_partial,
            partial.home_partial / "heldout",
            seed,
            self.settings.cache_dir,
            self.settings.datasets_mirror,
            self.settings.keras_home,
        )
        now = self.clock.now()
        duration = minutes if minutes is not None else exam.duration_minutes
        session = SessionRecord(
            id=session_id,
            exam_id=exam.id,
            exam_title=exam.title,
            project_dir=str(partial.project_final),
            started_at=now,
            deadline=now + duration * 60.0,
            state=SessionState.RUNNING,
            submitted_at=None,
            submit_reason=None,
            seed=seed,
            pass_mark=exam.pass_mark,
            duration_minutes=duration,
            keras=keras,
        )
        questions = [
            QuestionRecord(
                session_id=session_id,
                question_id=d.question.id,
                position=i,
                title=d.question.title,
                weight=d.question.weight,
                model_file=d.question.model_file,
                variant=exam.scored_variant(d.variant),
                data=d.provenance.to_dict(),
                # The held-out data's final place, once the partial folder is renamed in.
                heldout_path=str(partial.home_final / d.heldout_path.relative_to(
                    partial.home_partial)),
                waiting_since=None,
            )
            for i, d in enumerate(drawn)
        ]
        write_project(
            self.settings.exams_dir / exam.id,
            exam,
            partial.project_partial,
            drawn,
            session.__dict__,
            f"http://{self.settings.host}:{self.settings.port}",
            self.settings.token,
        )
        return session, questions

    def get(self, session_id: str) -> SessionRecord:
        session = self.store.session(session_id)
        if session is None:
            raise UnknownSession(f"There is no session '{excerpt(session_id)}'.")
        return session

    def finish(self, session_id: str, reason: str = SubmitReason.LEARNER) -> SessionRecord:
        """Submit the session; a second call, or one after the deadline sweep, changes nothing."""
        session = self.get(session_id)
        if session.state == SessionState.RUNNING:
            now = self.clock.now()
            if reason == SubmitReason.DEADLINE:
                # Stamped at the deadline, even when swept at start-up long after.
                now = min(now, session.deadline)
            if self.store.mark_submitted(session_id, reason, now):
                session = self.get(session_id)
                log.info("session %s submitted (%s)", session_id, reason)
                for hook in self.hooks:
                    hook.session_submitted(session)
        return self.get(session_id)

    def sweep(self) -> list[str]:
        """Submit every running session whose deadline has passed; returns their ids."""
        swept = []
        for session in self.store.expired_sessions(self.clock.now()):
            self.finish(session.id, reason=SubmitReason.DEADLINE)
            swept.append(session.id)
        return swept
