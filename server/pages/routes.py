"""The browser's pages: home, exam, report and history, rendered on the server.

The pages read the same status and report dicts as the JSON API (one source, so the page and the
CLI never disagree) and change nothing themselves: every action is a fetch to the REST API, so
the API's one-sentence errors reach the learner unchanged.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from server.api.identity import BrowserCodes, browser_cookie
from server.api.security import TOKEN_COOKIE, token_matches
from server.datasets.availability import Where, exam_availability
from server.names import excerpt
from server.pages.question_text import question_html
from server.pages.render import MOVE_ON_HEADERS, clock_text, move_on_page, render_page
from server.report import plots
from server.report.build import build_report
from server.report.html import render_report
from server.services import Services
from server.sessions.status import session_status
from server.sessions.titles import length_text

STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml",
                ".ico": "image/x-icon"}
REPORT_REFRESH_SECONDS = 3


def _suggested_folder(exam_id: str) -> str:
    """A new folder per attempt: a session refuses a folder that already holds files."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return str(Path.home() / "tfexam-projects" / f"{exam_id}-{stamp}")


def pages_router(services: Services, codes: BrowserCodes) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    token = services.settings.token
    cookie = browser_cookie(token) if token else None

    def authorised(request: Request) -> bool:
        """With a token configured, a page is shown only to a browser holding the cookie that a
        one-time code set (the page itself never holds the token)."""
        if not cookie or getattr(request.state, "classroom_role", None):
            return True  # no token, or classroom mode's access rules let this request in
        return token_matches(request.cookies.get(TOKEN_COOKIE), cookie)

    def let_in(request: Request) -> Response | None:
        """A `?code=` in the address: a live one sets the cookie; either way the page moves on to
        the address without it (`move_on_page` says why by a page, not a redirect). Classroom
        mode's codes are spent earlier, by its access rules (server/classroom/access.py)."""
        code = request.query_params.get("code")
        if code is None:
            return None
        if not codes.redeem(code) and not authorised(request):
            return HTMLResponse(render_page(
                "problem.html", title="Code used or expired",
                message="This address's one-time code was already used or has expired: run "
                "'tfexam open' (or use the address that 'tfexam serve' printed) for a new one."),
                status_code=401)
        response = HTMLResponse(move_on_page(request.url.path, request.query_params.multi_items()),
                                headers=MOVE_ON_HEADERS)
        if cookie:
            response.set_cookie(TOKEN_COOKIE, cookie, httponly=True, samesite="strict")
        return response

    def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
        if not authorised(request):
            return HTMLResponse(render_page("problem.html", title="Token needed",
                                            message="This service needs its token: run 'tfexam "
                                            "open' in the exam's project folder, or open the "
                                            "address that 'tfexam serve' printed."),
                                status_code=401)
        return HTMLResponse(render_page(template, **context), status_code=status_code)

    def not_found(request: Request, session_id: str) -> Response:
        return page(request, "problem.html", status_code=404, title="No such session",
                    message=f"There is no session '{excerpt(session_id)}'. The home page lists them all.")

    def statuses() -> list[dict[str, Any]]:
        now = services.clock.now()
        return [session_status(services.store, s, now) for s in services.store.sessions()]

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        if (entered := let_in(request)) is not None:
            return entered
        exams = list(services.sessions.exams().values())
        settings = services.settings
        where = Where(settings.datasets_mirror, settings.cache_dir, settings.keras_home)
        return page(request, "home.html", title="tfexam", exams=exams,
                    folders={e.id: _suggested_folder(e.id) for e in exams},
                    data={e.id: exam_availability(e, where) for e in exams},
                    sessions=statuses())

    @pages.get("/history", response_class=HTMLResponse)
    def history(request: Request) -> Response:
        if (entered := let_in(request)) is not None:
            return entered
        attempts = statuses()
        return page(request, "history.html", title="History", sessions=attempts,
                    trend=plots.trend(attempts))

    @pages.get("/sessions/{session_id}", response_class=HTMLResponse)
    def exam(request: Request, session_id: str) -> Response:
        if (entered := let_in(request)) is not None:
            return entered
        session = services.store.session(session_id)
        if session is None:
            return not_found(request, session_id)
        if session.state == "submitted" and authorised(request):
            return RedirectResponse(f"/sessions/{session_id}/report", status_code=303)
        status = session_status(services.store, session, services.clock.now())
        exam = services.sessions.exams().get(session.exam_id)
        heading = status["exam_title"]  # with the session's own length (sessions.titles)
        tasks = {q.question_id: question_html(services.settings.exams_dir, session, q)
                 for q in services.store.questions(session.id)}
        return page(request, "exam.html", tasks=tasks,
                    title=f"{clock_text(status['remaining_seconds'])} left · {heading}",
                    heading=heading, status=status,
                    length=length_text(session.duration_minutes),
                    own_length=length_text(exam.duration_minutes) if exam else None,
                    duration_seconds=session.duration_minutes * 60.0,
                    # A learner's project is on their machine; the path here is the service's copy.
                    classroom=services.settings.classroom)

    @pages.get("/sessions/{session_id}/report", response_class=HTMLResponse)
    def report_page(request: Request, session_id: str) -> Response:
        if (entered := let_in(request)) is not None:
            return entered
        session = services.store.session(session_id)
        if session is None:
            return not_found(request, session_id)
        if not authorised(request):
            return page(request, "problem.html")
        report = build_report(services.store, session, services.clock.now())
        refresh = REPORT_REFRESH_SECONDS if report["grading_pending"] else None
        return HTMLResponse(render_report(report, site=True, refresh_seconds=refresh))

    @pages.get("/sessions/{session_id}/report.html")
    def report_file(request: Request, session_id: str, download: bool = False) -> Response:
        """The standalone document: what "Download" saves and what a PDF is printed from."""
        session = services.store.session(session_id)
        if session is None:
            return not_found(request, session_id)
        if not authorised(request):
            return page(request, "problem.html")
        report = build_report(services.store, session, services.clock.now())
        headers = {}
        if download:
            name = f"tfexam-report-{session.exam_id}-{session.id}.html"
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return HTMLResponse(render_report(report), headers=headers)

    @pages.get("/static/{name}")
    def static(name: str) -> Response:
        """A plain route, not a mount: an APIRouter cannot mount, and a flat folder of a few
        files needs no more than a name check."""
        try:
            path = (STATIC / name).resolve()
            found = path.parent == STATIC and path.is_file() and path.suffix in STATIC_TYPES
        except (OSError, ValueError):  # a NUL or an over-long name is simply not one of ours
            found = False
        if not found:
            return Response(f"The pages have no file {excerpt(name)!r}.", status_code=404,
                            media_type="text/plain")
        return FileResponse(path, media_type=STATIC_TYPES[path.suffix],
                            headers={"Cache-Control": "no-cache"})

    return pages
