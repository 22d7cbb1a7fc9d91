"""A local web service done right (Jupyter server's lessons): answer only to names of this
machine (DNS rebinding), refuse cross-origin writes, and take a token when one is configured.

The token comes only in the `Authorization` header (never in an address, which the access log
prints), or as the browser's cookie, which holds a value derived from it (server/api/identity.py).
`/api/hello` is the one API route open without it: a client asks it to prove who it is first."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from server.api.identity import browser_cookie

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]", "testserver"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
TOKEN_COOKIE = "tfexam_token"  # HttpOnly, SameSite=Strict: set by the pages once
OPEN_PATHS = {"/api/hello"}


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time, so the token cannot be guessed a character at a time from response times."""
    return hmac.compare_digest((given or "").encode(), token.encode())


def _hostname(value: str) -> str:
    if value.startswith("["):
        return value.split("]")[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LocalOnly(BaseHTTPMiddleware):
    def __init__(self, app, allowed_hosts: set[str], token: str | None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.allowed = LOCAL_NAMES | allowed_hosts
        self.token = token
        self.cookie = browser_cookie(token) if token else None

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        host = _hostname(request.headers.get("host", ""))
        if host not in self.allowed:
            return JSONResponse({"detail": f"Host {host!r} is not this machine's; open the "
                                 "exam at http://127.0.0.1 instead."}, status_code=403)
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("origin")
            if origin and _hostname(urlsplit(origin).netloc) not in self.allowed:
                return JSONResponse({"detail": "Cross-origin requests may not change an exam."},
                                    status_code=403)
        path = request.url.path
        if self.token and self.cookie and path.startswith("/api/") and path not in OPEN_PATHS:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not (token_matches(given, self.token)
                    or token_matches(request.cookies.get(TOKEN_COOKIE), self.cookie)):
                return JSONResponse({"detail": "This service needs its token: pass "
                                     "'Authorization: Bearer <token>'; the token is in the file "
                                     "'token' of the service's home folder (or TFEXAM_TOKEN)."},
                                    status_code=401)
        return await call_next(request)
