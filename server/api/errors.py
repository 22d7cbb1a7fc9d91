"""Every error the learner can cause becomes a 4xx with one sentence, never a traceback or 500."""

from __future__ import annotations

import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import TfexamError
from server.names import excerpt, shown


def _validation_sentence(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        if item.get("type") == "json_invalid":
            return ("The request body is not valid JSON; send an object such as "
                    '{"exam": "smoke", "workspace": "/path/to/folder"}.')
        if item.get("type") == "missing":
            problems.append(f"'{where}' is required")
        elif item.get("type") == "extra_forbidden":
            problems.append(f"'{where}' is not a known field")
        else:
            problems.append(f"'{where}': {item.get('msg', 'invalid')}")
    return "The request is not valid: " + "; ".join(problems) + "."


def install(app: FastAPI) -> None:
    @app.exception_handler(TfexamError)
    async def _refused(_: Request, error: TfexamError) -> JSONResponse:
        """Every session, intake and workspace refusal: its own status and sentence, always one
        line of valid text, whatever name from an address or the disk it repeats."""
        return JSONResponse({"detail": shown(str(error))}, status_code=error.status)

    @app.exception_handler(sqlite3.Error)
    async def _database(_: Request, error: sqlite3.Error) -> JSONResponse:
        # A locked, full or read-only database: the request failed within the busy timeout
        # (about a second) instead of stalling; nothing half-done was stored.
        return JSONResponse({"detail": f"tfexam could not use its record just now ({error}): "
                             "try again in a moment; if this goes on, free some disk space in "
                             "tfexam's home folder and see /api/health."}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _routing(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (no such address, wrong method) as sentences too: a name
        like '.' or '..' in an address can turn it into another address altogether."""
        if error.status_code == 404:
            detail = (f"There is no address {excerpt(request.url.path)} in tfexam: the pages "
                      "start at / and the API is listed at /docs.")
        elif error.status_code == 405:
            detail = (f"The address {excerpt(request.url.path)} does not take a "
                      f"{request.method} request: the API is listed at /docs.")
        else:
            detail = str(error.detail).rstrip(".") + "."
        return JSONResponse({"detail": detail}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_sentence(error)}, status_code=422)
