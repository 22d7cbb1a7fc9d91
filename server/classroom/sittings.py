"""Classroom sittings: the instructor creates one, learners join it with its code.

The service's clock rules every time here: a sitting's window and each learner's deadline are
measured by the service, never by a learner's machine. A learner may join from `opens_at` until
`closes_at`; each has `minutes` from the moment they joined (the service's moment). Joining makes
an ordinary session whose project the service keeps under its home (its copy is what is graded:
the learner's agent uploads each complete save into it); the learner's own folder is made from the
same files by `tfexam join`.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import tarfile
import tempfile
from pathlib import Path

from server.classroom.roster import Learner, Roster, Sitting
from server.clock import Clock, iso
from server.config import Settings
from server.errors import TfexamError
from server.sessions.service import SessionService
from server.workspace.ide import write_pycharm_files, write_vscode_files
from server.workspace.keras_env import DEFAULT_KERAS, learner_env

# No 0/O or 1/I/L: a code read aloud or from a projector is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_NAME = 80


class SittingError(TfexamError):
    status = 400


class UnknownCode(SittingError):
    status = 404


class OutsideWindow(SittingError):
    status = 403


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


class Sittings:
    def __init__(self, settings: Settings, roster: Roster, sessions: SessionService,
                 clock: Clock) -> None:
        self.settings = settings
        self.roster = roster
        self.sessions = sessions
        self.clock = clock

    @property
    def root(self) -> Path:
        return self.settings.home / "classroom"

    def create(self, exam_id: str, title: str | None, opens_in_minutes: float,
               window_minutes: float, minutes: float | None) -> Sitting:
        exam = self.sessions.exam(exam_id)
        length = float(minutes if minutes is not None else exam.duration_minutes)
        if not 0 < length <= 24 * 60:
            raise SittingError(f"minutes must be more than 0 and at most 1440; got {length:g}.")
        if window_minutes <= 0 or opens_in_minutes < 0:
            raise SittingError("The start window must open now or later and stay open for more "
                               "than 0 minutes.")
        now = self.clock.now()
        opens = now + opens_in_minutes * 60
        sitting = Sitting(id=secrets.token_hex(5), exam_id=exam.id,
                          title=(title or exam.title).strip()[:200], join_code=new_code(),
                          opens_at=opens, closes_at=opens + window_minutes * 60,
                          minutes=length, created_at=now)
        self.roster.add_sitting(sitting)
        return sitting

    def join(self, code: str, name: str) -> tuple[Learner, str]:
        """A learner joins: a session of their own, and a token that acts for it alone."""
        sitting = self.roster.sitting_by_code(normalise_code(code))
        if sitting is None:
            raise UnknownCode("There is no sitting with that join code: check it with your "
                              "instructor (letters and digits, no 0, O, 1, I or L).")
        clean = " ".join(name.split())[:MAX_NAME]
        if not clean:
            raise SittingError("Give your name as your instructor should see it (--name).")
        now = self.clock.now()
        if now < sitting.opens_at:
            raise OutsideWindow(f"This sitting opens at {iso(sitting.opens_at)} (the service's "
                                "clock); join again then.")
        if now > sitting.closes_at:
            raise OutsideWindow(f"This sitting closed at {iso(sitting.closes_at)}; ask your "
                                "instructor for a new one.")
        learner_id = secrets.token_hex(6)
        project = self.root / sitting.id / learner_id / "project"
        project.parent.mkdir(parents=True, exist_ok=True)
        session = self.sessions.create(sitting.exam_id, str(project), minutes=sitting.minutes)
        token = secrets.token_urlsafe(24)
        learner = Learner(id=learner_id, sitting_id=sitting.id, name=clean,
                          session_id=session.id, joined_at=session.started_at)
        self.roster.add_learner(learner, token)
        return learner, token


IDE_FILES = (Path(".idea") / "runConfigurations", Path(".vscode"))  # rendered per learner
SHARED_MARKER_FILES = ("activate", "activate.bat", "activate.ps1")  # in .tfexam/, no secrets


def learner_ide_files(project_dir: Path, tfexam: list[str], module: str) -> dict[str, bytes]:
    """The project's IDE files as they must be on the learner's machine: the run configurations
    and tasks call `tfexam`, the learner's own command (what `tfexam join` found there), never
    the service machine's; PyCharm's module is the learner's folder's name. Rendered by the same
    code that writes a local project's (server/workspace/ide.py), in a folder of its own."""
    meta = json.loads((project_dir / ".tfexam" / "session.json").read_text(encoding="utf-8"))
    questions = list(meta.get("questions") or {})
    keras = str(meta.get("keras") or DEFAULT_KERAS)
    env = learner_env(keras)
    with tempfile.TemporaryDirectory(prefix="tfexam-ide-") as scratch:
        root = Path(scratch)
        settings = project_dir / ".vscode" / "settings.json"
        if settings.is_file():  # the Keras settings already there, kept (tasks merge into it)
            (root / ".vscode").mkdir()
            shutil.copyfile(settings, root / ".vscode" / "settings.json")
        write_pycharm_files(root, questions, tfexam, env, module)
        write_vscode_files(root, questions, tfexam, env)
        return {path.relative_to(root).as_posix(): path.read_bytes()
                for path in sorted(root.rglob("*")) if path.is_file()}


def _is_rendered(relative: Path) -> bool:
    return any(relative == folder or folder in relative.parents for folder in IDE_FILES)


def project_archive(project_dir: Path, ide_files: dict[str, bytes] | None = None) -> bytes:
    """The learner's project as the service made it, for `tfexam join` to unpack: everything but
    `.tfexam/` (the service's own marker, which names the service's token; its activate scripts,
    which hold only the Keras variables, do go) and the IDE files, which `ide_files` gives as
    rendered for the learner's machine."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(project_dir.rglob("*")):
            relative = path.relative_to(project_dir)
            if path.is_symlink():
                continue
            if relative.parts[0] == ".tfexam" and not (
                    len(relative.parts) == 2 and relative.name in SHARED_MARKER_FILES):
                continue
            if ide_files is not None and _is_rendered(relative):
                continue
            if path.is_file() and path.name.startswith("mymodel"):
                continue  # the learner's own saves are theirs to make
            archive.add(path, arcname=str(relative), recursive=False)
        for name, data in (ide_files or {}).items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mode = 0o644
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
