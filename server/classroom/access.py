"""Who may do what on a classroom service: the instructor, or one learner.

The instructor holds the service's token (the one in its home folder, as in the local mode): every
route. A learner holds the token `join` gave them: their own session's routes and pages, their
project and uploads, health; nothing of anyone else's (403 with one sentence), and no list of
sessions. Joining needs no token: the join code is the credential. The pages then carry whichever
token opened them, so an exam page opened by a learner speaks for that learner only.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from server.api.security import TOKEN_COOKIE, token_matches
from server.classroom.roster import Roster

OPEN_PATHS = {"/api/classroom/join", "/api/health", "/api/hello"}  # hello: proves, takes nothing
SESSION_PATH = re.compile(r"^(?:/api)?/sessions/([0-9a-f]+)(?:/|$)")
LEARNER_PATHS = ("/api/classroom/me", "/static/", "/downloads/")


def given_token(request: Request) -> str:
    return (request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            or request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or "")


class ClassroomAccess(BaseHTTPMiddleware):
    def __init__(self, app, instructor_token: str | None, roster: Roster) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.instructor_token = instructor_token
        self.roster = roster

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path in OPEN_PATHS or path.startswith(("/docs", "/openapi.json")):
            return await call_next(request)
        token = given_token(request)
        if self.instructor_token is None or (token and token_matches(token,
                                                                     self.instructor_token)):
            request.state.classroom_role = "instructor"
            request.state.classroom_token = self.instructor_token
            return await call_next(request)
        learner = await run_in_threadpool(self.roster.learner_by_token, token) if token else None
        if learner is None:
            return JSONResponse({"detail": "This classroom service needs your token: join with "
                                 "`tfexam join <url> <code>`, which keeps it in your project's "
                                 ".tfexam/session.json."}, status_code=401)
        request.state.classroom_role = "learner"
        request.state.classroom_token = token
        request.state.learner = learner
        if path in ("/", "/history"):
            return RedirectResponse(f"/sessions/{learner.session_id}", status_code=303)
        match = SESSION_PATH.match(path)
        if match and match.group(1) == learner.session_id or path.startswith(LEARNER_PATHS):
            return await call_next(request)
        return JSONResponse({"detail": "A learner sees and changes only their own sitting."},
                            status_code=403)
