"""The REST API and its server-sent events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from server.api.broadcast import Broadcaster, frame
from server.api.models import ExamSummary, MissingData, QuestionSummary, SessionStarted, StartSession
from server.api.submit_answer import submit_answer
from server.clock import iso
from server.datasets.availability import Where, can_download, exam_availability, refusal
from server.names import BadName, check_folder_request, excerpt
from server.report.build import build_report
from server.services import Services
from server.sessions.service import DataUnavailable, SessionClosed, UnknownSession
from server.sessions.status import session_status
from server.vocabulary import SessionState, SubmissionState

# Heartbeats are a named event (not a comment) so the page's script sees them: with no event or
# heartbeat for a few seconds, the page says the service stopped instead of showing a stale
# "grading". The broadcaster sends them to every stream at once (HEARTBEAT_SECONDS).


PUBLIC_WORKER_KEYS = ("state", "mode")


def public_health(report: dict[str, Any]) -> dict[str, Any]:
    """What a classroom service tells anyone but its instructor: whether it is up and grading,
    and whether model files are sandboxed; not its folders, database, clock or processes, which
    name the central machine to every learner of the cohort (and to anyone who reaches it)."""
    worker = report.get("worker") or {}
    isolation = report.get("isolation")
    return {
        "service": "tfexam", "mode": "classroom", "status": report["status"],
        "schema_version": report.get("schema_version"),
        "worker": {key: worker[key] for key in PUBLIC_WORKER_KEYS if key in worker},
        "isolation": ({"sandboxed": isolation.get("sandboxed"), "how": isolation.get("how")}
                      if isinstance(isolation, dict) else isolation),
        "api_imports_tensorflow": report["api_imports_tensorflow"],
    }


def router(services: Services, broadcaster: Broadcaster) -> APIRouter:
    api = APIRouter(prefix="/api")

    def status_of(session_id: str) -> dict[str, Any]:
        session = services.sessions.get(session_id)
        return session_status(services.store, session, services.clock.now())

    @api.get("/health", summary="Is the service up, and how is the grading worker?")
    def health(request: Request) -> dict[str, Any]:
        report = {**services.health(), "streams": {"open": broadcaster.subscribers,
                                                   "store_reads": broadcaster.reads}}
        if services.settings.classroom and getattr(
                request.state, "classroom_role", None) != "instructor":
            return public_health(report)
        return report

    def where() -> Where:
        settings = services.settings
        return Where(settings.datasets_mirror, settings.cache_dir, settings.keras_home)

    @api.get("/exams", response_model=list[ExamSummary],
             summary="The exam templates, and whether each one's data is on this machine")
    def exams() -> list[ExamSummary]:
        summaries = []
        for e in services.sessions.exams().values():
            check = exam_availability(e, where())
            summaries.append(ExamSummary(
                id=e.id, title=e.title, summary=e.summary, duration_minutes=e.duration_minutes,
                pass_mark=e.pass_mark,
                questions=[QuestionSummary(id=q.id, title=q.title, weight=q.weight,
                                           variants=[v.title for v in q.variants])
                           for q in e.questions],
                available=check.available,
                missing=[MissingData(dataset=m.dataset, variants=m.variants,
                                     looked_in=m.looked_in, fix=m.fix) for m in check.missing],
            ))
        return summaries

    @api.post("/sessions", status_code=201, response_model=SessionStarted,
              summary="Start a timed exam and create its project folder")
    def start(body: StartSession) -> SessionStarted:
        exam = services.sessions.exam(body.exam)
        check = exam_availability(exam, where())
        if not check.available and not can_download(check):
            # Refused before any folder is made or data prepared: the learner hears it at once.
            raise DataUnavailable(refusal(exam, check, where()))
        session = services.sessions.create(body.exam, body.workspace, body.minutes,
                                           keras=body.keras)
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
        try:
            target = Path(check_folder_request(path)).expanduser().resolve()
        except (BadName, OSError, ValueError, RuntimeError):
            raise UnknownSession(f"No session's project folder holds {excerpt(path)}.") from None
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
        if session.state != SessionState.RUNNING:
            raise SessionClosed(
                f"Session {session_id} was already submitted; its report is final.")
        if services.store.question(session_id, question_id) is None:
            known = ", ".join(q.question_id for q in services.store.questions(session_id))
            raise UnknownSession(f"There is no question '{excerpt(question_id)}'; the questions are: "
                                 f"{known}.")
        before = services.store.latest_submission(session_id, question_id)
        sub = services.intake.submit_now(session, question_id)
        return submit_answer(before, sub, services.store.result(sub.id))

    @api.get("/sessions/{session_id}/submissions/{submission_id}",
             summary="One submission and its Result, once graded")
    def submission(session_id: str, submission_id: int) -> dict[str, Any]:
        sub = services.store.submission(submission_id)
        if sub is None or sub.session_id != session_id:
            raise UnknownSession(f"There is no submission {submission_id} in {excerpt(session_id)}.")
        result = services.store.result(submission_id)
        answer: dict[str, Any] = {"submission": sub.id, "question": sub.question_id,
                                  "state": sub.state, "result": result.payload if result else None}
        if sub.state == SubmissionState.SUPERSEDED:
            # A later save replaced it before it was graded: the waiter follows the successor.
            answer["superseded_by"] = services.store.successor(sub.id)
            answer["message"] = (f"A newer save of {sub.question_id} replaced this submission "
                                 f"before it was graded; submission {answer['superseded_by']} "
                                 "is graded instead.")
        return answer

    @api.get("/sessions/{session_id}/report", summary="The report as JSON")
    def report(session_id: str) -> dict[str, Any]:
        session = services.sessions.get(session_id)
        return build_report(services.store, session, services.clock.now())

    @api.get("/sessions/{session_id}/events", summary="Server-sent events of a session",
             response_class=StreamingResponse)
    async def events(session_id: str,
                     last_event_id: str | None = Header(default=None),
                     after: int | None = None) -> StreamingResponse:
        services.sessions.get(session_id)
        start = after if after is not None else int(last_event_id or 0)
        return StreamingResponse(_stream(services, broadcaster, session_id, start),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return api


async def _stream(services: Services, broadcaster: Broadcaster, session_id: str, after: int
                  ) -> AsyncIterator[bytes]:
    """Replays what came after `after` from the store, then follows the broadcaster; every event
    carries the fresh status, so a client needs no second request to redraw. Starlette cancels
    this generator when the client goes away."""
    queue = broadcaster.subscribe(session_id)  # before the replay: nothing falls in between
    try:
        yield b"retry: 1000\n\n"
        # An id from the future (a client's mistake, or a home restored from a backup) must not
        # silence the stream: nothing after the newest stored event is skipped.
        after = min(after, await asyncio.to_thread(services.store.last_event_id))
        backlog = await asyncio.to_thread(services.store.events_after, session_id, after, 1000)
        if backlog:
            status = await asyncio.to_thread(
                lambda: session_status(services.store, services.sessions.get(session_id),
                                       services.clock.now()))
            for event in backlog:
                yield frame(event, status)
            after = backlog[-1].id
        while True:
            delivery = await queue.get()
            if delivery is None:
                return
            if delivery.event is None:  # the broadcaster's heartbeat (HEARTBEAT_SECONDS)
                yield delivery.frame
                continue
            if delivery.event.id <= after:
                continue
            after = delivery.event.id
            yield delivery.frame
    finally:
        broadcaster.unsubscribe(session_id, queue)
