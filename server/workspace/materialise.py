"""Create the learner's project folder: a folder per question, the learner's README, IDE files,
and `.tfexam/session.json` so that any tool opened inside the folder can find its session.
"""

from __future__ import annotations

import json
from pathlib import Path

from server.access_token import private_folder, write_private
from server.clock import iso
from server.manifest import Exam
from server.workspace.draw import Drawn
from server.workspace.ide import write_ide_files
from server.workspace.keras_env import (
    DEFAULT_KERAS,
    with_preamble,
    write_activate_files,
    write_keras_files,
)
from server.workspace.readme import learner_readme


class WorkspaceNotEmpty(Exception):
    """The learner's work is never overwritten."""


def check_project_dir(project_dir: Path) -> None:
    """The chosen folder must be new or empty (it is created by renaming the built project in)."""
    if project_dir.exists():
        if not project_dir.is_dir():
            raise WorkspaceNotEmpty(f"{project_dir} is a file; choose a new or empty folder.")
        if any(project_dir.iterdir()):
            raise WorkspaceNotEmpty(
                f"The folder {project_dir} is not empty; choose a new or empty folder so that "
                "nothing in it is overwritten."
            )


def claim_project_dir(project_dir: Path) -> None:
    check_project_dir(project_dir)
    project_dir.mkdir(parents=True, exist_ok=True)


def session_data_note(item: Drawn) -> str:
    """The data note of a session whose data is partial, for the end of its question.md: the
    template states the rule for every case, this says which case the learner is in (a score on
    a partial copy is not the real exam's, and the question is where the learner looks)."""
    provenance = item.provenance
    if provenance.complete or not provenance.note:
        return ""
    return f"\n## This session's data\n\n{provenance.title}: partial. {provenance.note}\n"


def write_project(
    exam_dir: Path,
    exam: Exam,
    project_dir: Path,
    drawn: list[Drawn],
    session: dict[str, object],
    server_url: str,
    token: str | None = None,
) -> None:
    keras = str(session.get("keras", DEFAULT_KERAS))
    for item in drawn:
        folder = project_dir / item.question.id
        folder.mkdir(parents=True, exist_ok=True)
        starter = (exam_dir / item.variant.starter).read_text(encoding="utf-8")
        (folder / "starter.py").write_text(with_preamble(starter, keras), encoding="utf-8")
        question = (exam_dir / item.variant.question).read_text(encoding="utf-8")
        (folder / "question.md").write_text(question + session_data_note(item), encoding="utf-8")
    (project_dir / "README.md").write_text(
        learner_readme(exam, drawn, session), encoding="utf-8"
    )
    # The marker carries the token, so it is the learner's alone: folder 0700, file 0600.
    meta = private_folder(project_dir / ".tfexam")
    write_private(
        meta / "session.json",
        json.dumps(
            {
                "session": session["id"],
                "exam": exam.id,
                "server": server_url,
                "token": token,
                "deadline": iso(float(session["deadline"])),  # type: ignore[arg-type]
                "questions": {d.question.id: d.question.model_file for d in drawn},
                "keras": keras,
            },
            indent=2,
        ),
    )
    write_activate_files(meta, keras)
    write_ide_files(project_dir, Path(str(session.get("project_dir") or project_dir)))
    write_keras_files(project_dir, keras)
