"""Who may do what on a classroom service: the instructor, or one learner.

The instructor holds the service's token (the one in its home folder, as in the local mode): every
route. A learner holds the token `join` gave them: their own session's routes and pages, their
project and uploads, health; nothing of anyone else's (403 with one sentence), and no list of
sessions. Joining needs no token: the join code is the credential.

A token never travels in an address (an address lands in `ps`, the browser's history and the
access log). A browser gets in as in local mode: `tfexam open` (or the address `serve` printed,
for the instructor) carries a one-time code that acts for whoever asked for it; it is spent here,
and the browser keeps an HttpOnly, SameSite=Strict cookie instead. So a page opened by a learner
speaks for that learner only.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from server.api.identity import BrowserCodes
from server.api.security import TOKEN_COOKIE, token_matches
from server.classroom.roster import Learner, Roster
from server.pages.render import MOVE_ON_HEADERS, move_on_page, render_page

OPEN_PATHS = {"/api/classroom/join", "/api/health", "/api/hello"}  # hello: proves, takes nothing
SESSION_PATH = re.compile(r"^(?:/api)?/sessions/([0-9a-f]+)(?:/|$)")
LEARNER_PATHS = ("/api/classroom/me", "/static/", "/downloads/")
LEARNER_ENDPOINTS = {"/api/browser-codes"}  # a code that acts for the learner who asks
NEEDS_TOKEN = ("This classroom service needs your token: join with `tfexam join <url> <code>`, "
               "which keeps it in your project's .tfexam/session.json, then run `tfexam open` "
               "in that folder for the exam page.")
SPENT_CODE = ("This address's one-time code was already used or has expired: run `tfexam open` in "
              "your project folder (the instructor: `tfexam open --sitting <id>`) for a new one.")
OWN_SITTING_ONLY = "A learner sees and changes only their own sitting."


def given_token(request: Request) -> str:
    """The header (the CLI, the agent, the extension) or the cookie (a browser); never the
    address."""
    return (request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            or request.cookies.get(TOKEN_COOKIE) or "")


def refusal(request: Request, status: int, sentence: str) -> Response:
    """One sentence: as JSON to a program, as a page to a browser."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": sentence}, status_code=status)
    title = "Not yours to see" if status == 403 else "Token needed"
    return HTMLResponse(render_page("problem.html", title=title, message=sentence),
                        status_code=status)


class ClassroomAccess(BaseHTTPMiddleware):
    def __init__(self, app, instructor_token: str | None, roster: Roster,  # type: ignore[no-untyped-def]
                 codes: BrowserCodes) -> None:
        super().__init__(app)
        self.instructor_token = instructor_token
        self.roster = roster
        self.codes = codes

    def _is_instructor(self, token: str) -> bool:
        return self.instructor_token is None or bool(
            token and token_matches(token, self.instructor_token))

    async def _learner(self, token: str) -> Learner | None:
        return await run_in_threadpool(self.roster.learner_by_token, token) if token else None

    async def _spend_code(self, request: Request) -> Response | None:
        """A page address with `?code=`: a live code sets its holder's cookie and the browser
        moves on without the code; a spent one falls through to the cookie the browser may
        already hold."""
        code = request.query_params.get("code")
        if request.method != "GET" or code is None or request.url.path.startswith("/api/"):
            return None
        live, holder = self.codes.redeem_for(code)
        if live and holder is None:
            # Minted by the service itself (the address `serve` prints): the instructor's.
            holder = self.instructor_token
        elif not (live and holder and (self._is_instructor(holder)
                                       or await self._learner(holder))):
            return None
        response = HTMLResponse(move_on_page(request.url.path, request.query_params.multi_items()),
                                headers=MOVE_ON_HEADERS)
        if holder:
            response.set_cookie(TOKEN_COOKIE, holder, httponly=True, samesite="strict")
        return response

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path in OPEN_PATHS or path.startswith(("/docs", "/openapi.json")):
            if path == "/api/health" and self._is_instructor(given_token(request)):
                request.state.classroom_role = "instructor"  # the whole report (its paths)
            return await call_next(request)
        entered = await self._spend_code(request)
        if entered is not None:
            return entered
        token = given_token(request)
        if self._is_instructor(token):
            request.state.classroom_role = "instructor"
            request.state.classroom_token = self.instructor_token
            if path == "/" and request.method == "GET":  # the sittings, not a local exam's start
                return RedirectResponse("/instructor", status_code=303)
            return await call_next(request)
        learner = await self._learner(token)
        if learner is None:
            spent = "code" in request.query_params and not path.startswith("/api/")
            return refusal(request, 401, SPENT_CODE if spent else NEEDS_TOKEN)
        request.state.classroom_role = "learner"
        request.state.classroom_token = token
        request.state.learner = learner
        if path in ("/", "/history"):
            return RedirectResponse(f"/sessions/{learner.session_id}", status_code=303)
        match = SESSION_PATH.match(path)
        if (match and match.group(1) == learner.session_id or path.startswith(LEARNER_PATHS)
                or path in LEARNER_ENDPOINTS):
            return await call_next(request)
        return refusal(request, 403, OWN_SITTING_ONLY)
