"""The classroom's HTTP routes: sittings (instructor), joining and the project (learner), uploads
of complete saves (learner), the cohort as JSON and CSV, and the instructor's page."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from server.classroom import saved_model_upload
from server.classroom.cohort import cohort, cohort_rows
from server.classroom.keras_data import KerasData
from server.classroom.roster import Roster
from server.classroom.sittings import (
    SittingError,
    Sittings,
    learner_ide_files,
    project_archive,
)
from server.clock import iso
from server.errors import TfexamError
from server.services import Services
from server.sessions.service import SessionClosed, UnknownSession
from server.watch import model_files

MODEL_SUFFIXES = (".h5", ".keras")
ARCHIVE_OVERHEAD = 1 << 20  # a SavedModel's tar headers, beyond the content's own size limit
RECEIVED = Path(".tfexam") / "received"  # the content hash of each SavedModel taken


class Forbidden(TfexamError):
    status = 403


class NotYourData(TfexamError):
    status = 404


class DataGone(TfexamError):
    status = 503


class BadUpload(TfexamError):
    status = 400


class NewSitting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exam: str
    title: str | None = None
    opens_in_minutes: float = 0.0
    window_minutes: float = Field(default=60.0, gt=0)
    minutes: float | None = None


class ProjectFor(BaseModel):
    """Where the learner's project will live: the command that runs tfexam on the learner's
    machine (for the IDE buttons) and the project folder's name (PyCharm's module)."""

    model_config = ConfigDict(extra="forbid")
    tfexam: list[Annotated[str, StringConstraints(min_length=1, max_length=4096,
                                                  pattern=r"^[^\x00-\x1f]+$")]] = Field(
        min_length=1, max_length=8)
    folder_name: Annotated[str, StringConstraints(min_length=1, max_length=255,
                                                  pattern=r"^[^/\\\x00-\x1f]+$")]


class Join(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str


def _instructor(request: Request) -> None:
    if getattr(request.state, "classroom_role", None) != "instructor":
        raise Forbidden("Only the instructor may do this (the service's own token).")


def classroom_router(services: Services, roster: Roster, sittings: Sittings) -> APIRouter:
    api = APIRouter(prefix="/api")
    keras_data = KerasData(services.settings)

    def sitting_dict(s: Any) -> dict[str, Any]:
        return {"id": s.id, "exam": s.exam_id, "title": s.title, "join_code": s.join_code,
                "opens_at": iso(s.opens_at), "closes_at": iso(s.closes_at),
                "minutes": s.minutes}

    def the_sitting(sitting_id: str) -> Any:
        sitting = roster.sitting(sitting_id)
        if sitting is None:
            raise UnknownSession(f"There is no sitting {sitting_id!r}.")
        return sitting

    @api.post("/classroom/sittings", status_code=201, summary="Create a sitting (instructor)")
    def create(body: NewSitting, request: Request) -> dict[str, Any]:
        _instructor(request)
        return sitting_dict(sittings.create(body.exam, body.title, body.opens_in_minutes,
                                            body.window_minutes, body.minutes))

    @api.get("/classroom/sittings", summary="Every sitting (instructor)")
    def all_sittings(request: Request) -> list[dict[str, Any]]:
        _instructor(request)
        return [sitting_dict(s) for s in roster.sittings()]

    @api.get("/classroom/sittings/{sitting_id}", summary="The cohort live (instructor)")
    def cohort_json(sitting_id: str, request: Request) -> dict[str, Any]:
        _instructor(request)
        sitting = the_sitting(sitting_id)
        return {**sitting_dict(sitting), **cohort(services, roster, sitting)}

    @api.get("/classroom/sittings/{sitting_id}/results.csv", summary="Scores as CSV (instructor)")
    def cohort_csv(sitting_id: str, request: Request) -> Response:
        _instructor(request)
        sitting = the_sitting(sitting_id)
        out = io.StringIO()
        writer = csv.writer(out)
        for row in cohort_rows(services, roster, sitting):
            writer.writerow(row)
        return Response(out.getvalue(), media_type="text/csv", headers={
            "content-disposition": f'attachment; filename="sitting-{sitting.id}.csv"'})

    @api.post("/classroom/join", status_code=201, summary="Join a sitting with its code")
    def join(body: Join, request: Request) -> dict[str, Any]:
        learner, token = sittings.join(body.code, body.name)
        session = services.store.session(learner.session_id)
        assert session is not None
        questions = {q.question_id: q.model_file for q in services.store.questions(session.id)}
        return {"learner": learner.id, "name": learner.name, "session": session.id,
                "exam": session.exam_id, "token": token, "deadline": iso(session.deadline),
                "keras": session.keras, "questions": questions,
                "server_time": iso(services.clock.now())}

    @api.post("/classroom/me/project.tar.gz", summary="The learner's project folder (learner)")
    def project(body: ProjectFor, request: Request) -> Response:
        learner = getattr(request.state, "learner", None)
        if learner is None:
            raise Forbidden("Only a learner who joined has a project here.")
        session = services.store.session(learner.session_id)
        assert session is not None
        project_dir = Path(session.project_dir)
        ide = learner_ide_files(project_dir, body.tfexam, body.folder_name)
        return Response(project_archive(project_dir, ide), media_type="application/gzip")

    def learners_data(request: Request) -> tuple[list[Any], list[str]]:
        learner = getattr(request.state, "learner", None)
        if learner is None:
            raise Forbidden("Only a learner who joined has data sets here.")
        return keras_data.for_questions(services.store.questions(learner.session_id))

    @api.get("/classroom/me/keras-data", summary="The Keras-cache files your questions read")
    def keras_files(request: Request) -> dict[str, Any]:
        """The files `tf.keras.datasets.*.load_data()` reads from Keras' cache for the learner's
        own questions (paths relative to the Keras home), each with its size and SHA-256, and a
        sentence for each the service cannot offer."""
        files, missing = learners_data(request)
        return {"files": [f.listing() for f in files], "missing": missing}

    @api.get("/classroom/me/keras-data/{path:path}", summary="One Keras-cache file (resumable)")
    def keras_file(path: str, request: Request) -> FileResponse:
        files, _ = learners_data(request)
        chosen = next((f for f in files if f.path == path), None)
        if chosen is None:
            raise NotYourData(f"{path} is not a data set of your exam's questions.")
        if not chosen.source.is_file():
            raise DataGone(f"The service no longer has {chosen.path}: tell your instructor.")
        # Byte ranges (`Range: bytes=N-`) let an interrupted download go on where it stopped.
        return FileResponse(chosen.source, media_type="application/octet-stream",
                            headers={"X-Content-SHA256": chosen.sha256})

    @api.put("/sessions/{session_id}/questions/{question_id}/upload", status_code=201,
             summary="Upload a complete save (the learner's agent)")
    async def upload(session_id: str, question_id: str, request: Request,
                     name: str = Query(..., pattern=r"^[A-Za-z0-9_.-]+$"),
                     sha256: str = Header(..., alias="x-content-sha256")) -> dict[str, Any]:
        session = services.store.session(session_id)
        question = services.store.question(session_id, question_id) if session else None
        if session is None or question is None:
            raise UnknownSession(f"There is no question {question_id!r} in session "
                                 f"{session_id!r}.")
        stem = Path(question.model_file).stem
        saved_model = name == f"{stem}{saved_model_upload.SUFFIX}"
        if not saved_model and (not name.endswith(MODEL_SUFFIXES) or Path(name).stem != stem):
            raise BadUpload(f"Upload {stem}.h5, {stem}.keras or the SavedModel folder {stem}/ "
                            f"(as {stem}{saved_model_upload.SUFFIX}); got {name!r}.")
        received = services.clock.now()  # the service's clock decides whether it counts
        if session.state != "running" or received > session.cutoff:
            raise SessionClosed(f"This save reached the service at {iso(received)}, after the "
                                f"exam's end ({iso(session.cutoff)}): it does not count.")
        limit = int(services.settings.model_size_limit_mb * 2**20)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit + ARCHIVE_OVERHEAD:
                raise BadUpload(f"The file is larger than {services.settings.model_size_limit_mb:g}"
                                " MB, the most a question takes.")
        digest = hashlib.sha256(body).hexdigest()
        if digest != sha256.lower():
            raise BadUpload("The upload arrived incomplete (its content hash differs): the agent "
                            "sends it again.")
        question_dir = Path(session.project_dir) / question_id
        if saved_model:
            record = Path(session.project_dir) / RECEIVED / f"{question_id}-{name}.sha256"
            if (question_dir / stem).is_dir() and _read(record) == digest:
                return {"stored": False, "sha256": digest, "received_at": iso(received),
                        "reason": "the service already has this save"}
            try:
                await run_in_threadpool(saved_model_upload.place, bytes(body), question_dir,
                                        stem, limit)
            except saved_model_upload.ArchiveRefused as refused:
                raise BadUpload(str(refused)) from None
            _write_atomically(record, digest.encode())
            return {"stored": True, "sha256": digest, "received_at": iso(received)}
        if len(body) > limit:
            raise BadUpload(f"The file is larger than {services.settings.model_size_limit_mb:g}"
                            " MB, the most a question takes.")
        target = question_dir / name
        if target.is_file() and model_files.sha256_of(target) == digest:
            return {"stored": False, "sha256": digest, "received_at": iso(received),
                    "reason": "the service already has this save"}
        _write_atomically(target, bytes(body))
        return {"stored": True, "sha256": digest, "received_at": iso(received)}

    return api


def instructor_page_router(services: Services, roster: Roster) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/instructor", response_class=HTMLResponse)
    def sittings_page(request: Request) -> HTMLResponse:
        """Where the instructor lands: every sitting with its join code and page, and a form
        for a new one (the same API the CLI's `tfexam sittings` speaks)."""
        _instructor(request)
        return HTMLResponse(Path(__file__).with_name("sittings.html").read_text(encoding="utf-8"))

    @pages.get("/instructor/sittings/{sitting_id}", response_class=HTMLResponse)
    def page(sitting_id: str, request: Request) -> HTMLResponse:
        _instructor(request)
        sitting = roster.sitting(sitting_id)
        if sitting is None:
            raise UnknownSession(f"There is no sitting {sitting_id!r}.")
        template = (Path(__file__).with_name("instructor.html")).read_text(encoding="utf-8")
        return HTMLResponse(template.replace("{{SITTING}}", sitting.id)
                            .replace("{{TITLE}}", _escape(sitting.title)))

    return pages


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _write_atomically(target: Path, data: bytes) -> None:
    """Whole or not at all: the service's watcher sees one complete file appear (a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.upload")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


__all__ = ["SittingError", "classroom_router", "instructor_page_router"]
