"""The REST API and its server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from server.api.models import ExamSummary, QuestionSummary, SessionStarted, StartSession
from server.clock import iso
from server.report.build import build_report
from server.services import Services
from server.sessions.service import UnknownSession
from server.sessions.status import session_status

SSE_POLL_SECONDS = 0.2
SSE_KEEPALIVE_SECONDS = 15.0


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix="/api")

    def status_of(session_id: str) -> dict[str, Any]:
        session = services.sessions.get(session_id)
        return session_status(services.store, session, services.clock.now())

    @api.get("/health", summary="Is the service up, and how is the grading worker?")
    def health() -> dict[str, Any]:
        return services.health()

    @api.get("/exams", response_model=list[ExamSummary], summary="The exam templates")
    def exams() -> list[ExamSummary]:
        return [
            ExamSummary(
                id=e.id, title=e.title, summary=e.summary, duration_minutes=e.duration_minutes,
                pass_mark=e.pass_mark,
                questions=[QuestionSummary(id=q.id, title=q.title, weight=q.weight,
                                           variants=[v.title for v in q.variants])
                           for q in e.questions],
            )
            for e in services.sessions.exams().values()
        ]

    @api.post("/sessions", status_code=201, response_model=SessionStarted,
              summary="Start a timed exam and create its project folder")
    def start(body: StartSession) -> SessionStarted:
        session = services.sessions.create(body.exam, body.workspace, body.minutes)
        return SessionStarted(
            session=session.id, exam=session.exam_id, project_dir=session.project_dir,
            started_at=iso(session.started_at) or "", deadline=iso(session.deadline) or "",
            remaining_seconds=round(session.deadline - services.clock.now(), 3),
        )

    @api.get("/sessions", summary="All sessions, newest first, with their totals")
    def sessions(state: str | None = Query(default=None, pattern="^(running|submitted)$")
                 ) -> list[dict[str, Any]]:
        now = services.clock.now()
        return [session_status(services.store, s, now) for s in services.store.sessions(state)]

    @api.get("/sessions/by-folder", summary="The session whose project folder holds a path")
    def by_folder(path: str) -> dict[str, Any]:
        target = Path(path).expanduser().resolve()
        for session in services.store.sessions():
            project = Path(session.project_dir)
            if target == project or project in target.parents:
                return status_of(session.id)
        raise UnknownSession(f"No session's project folder holds {target}.")

    @api.get("/sessions/{session_id}", summary="State, time left and each question's status")
    def status(session_id: str) -> dict[str, Any]:
        return status_of(session_id)

    @api.post("/sessions/{session_id}/finish", summary="Submit the exam (harmless twice)")
    def finish(session_id: str) -> dict[str, Any]:
        services.sessions.finish(session_id, reason="learner")
        return status_of(session_id)

    @api.post("/sessions/{session_id}/questions/{question_id}/submit",
              summary="Submit and Test: grade the question's current model file now")
    def submit(session_id: str, question_id: str) -> dict[str, Any]:
        session = services.sessions.get(session_id)
        if session.state != "running":
            raise UnknownSession(
                f"Session {session_id} was already submitted; its report is final.")
        if services.store.question(session_id, question_id) is None:
            known = ", ".join(q.question_id for q in services.store.questions(session_id))
            raise UnknownSession(f"There is no question {question_id!r}; the questions are: "
                                 f"{known}.")
        sub = services.intake.submit_now(session, question_id)
        return {"submission": sub.id, "state": sub.state, "question": question_id,
                "sha256": sub.sha256}

    @api.get("/sessions/{session_id}/submissions/{submission_id}",
             summary="One submission and its Result, once graded")
    def submission(session_id: str, submission_id: int) -> dict[str, Any]:
        sub = services.store.submission(submission_id)
        if sub is None or sub.session_id != session_id:
            raise UnknownSession(f"There is no submission {submission_id} in {session_id}.")
        result = services.store.result(submission_id)
        return {"submission": sub.id, "question": sub.question_id, "state": sub.state,
                "result": result.payload if result else None}

    @api.get("/sessions/{session_id}/report", summary="The report as JSON")
    def report(session_id: str) -> dict[str, Any]:
        session = services.sessions.get(session_id)
        return build_report(services.store, session, services.clock.now())

    @api.get("/sessions/{session_id}/events", summary="Server-sent events of a session",
             response_class=StreamingResponse)
    async def events(request: Request, session_id: str,
                     last_event_id: str | None = Header(default=None),
                     after: int | None = None) -> StreamingResponse:
        services.sessions.get(session_id)
        start = after if after is not None else int(last_event_id or 0)
        return StreamingResponse(_stream(request, services, session_id, start),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return api


async def _stream(request: Request, services: Services, session_id: str, after: int
                  ) -> AsyncIterator[str]:
    """Replays what came after `after`, then follows; every event carries the fresh status, so
    a client needs no second request to redraw."""
    yield "retry: 1000\n\n"
    last_sent = asyncio.get_running_loop().time()
    while not await request.is_disconnected():
        batch = services.store.events_after(session_id, after)
        if batch:
            status = session_status(services.store, services.sessions.get(session_id),
                                    services.clock.now())
            for event in batch:
                after = event.id
                data = {"kind": event.kind, **event.payload, "at": iso(event.created_at),
                        "status": status}
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(data)}\n\n"
            last_sent = asyncio.get_running_loop().time()
        elif asyncio.get_running_loop().time() - last_sent > SSE_KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            last_sent = asyncio.get_running_loop().time()
        await asyncio.sleep(SSE_POLL_SECONDS)
