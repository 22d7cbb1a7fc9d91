"""A real tfexam service: `python -m server serve` on a free loopback port, with its own home.

Tests talk to it over HTTP exactly as the browser and the CLI do, and may kill it with SIGKILL to
prove that nothing is lost.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import httpx

from server.access_token import read_token
from server.api.identity import browser_cookie
from server.api.security import TOKEN_COOKIE
from tests.support.timing import spent

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    started: ClassVar[list[LiveServer]] = []  # every start, in order (for failure reports)

    def __init__(self, home: Path, env: dict[str, str] | None = None, port: int | None = None,
                 wrapper: list[str] | None = None, serve_args: list[str] | None = None):
        """`wrapper` runs before the service's own command line (which it must exec), to start
        it under other limits, as `unshare ... sh -c '...; exec "$@"' sh` does."""
        self.home = home
        self.wrapper = wrapper or []
        self.serve_args = serve_args or []  # more options for `serve`, e.g. --no-token
        self.port = port or free_port()
        self.env = {**os.environ, "TFEXAM_SETTLE_SECONDS": "0.5", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "server.log"
        self.token: str | None = self.env.get("TFEXAM_TOKEN") or None

    @property
    def headers(self) -> dict[str, str]:
        """What every client sends: the service's token (read from its home, as the CLI does)."""
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def _read_token(self) -> None:
        if (self.env.get("TFEXAM_TOKEN") or self.env.get("TFEXAM_NO_TOKEN")
                or "--no-token" in self.serve_args):
            return
        self.token = read_token(self.home)

    def cookie(self) -> dict[str, str]:
        """The browser's cookie after it opened the address `serve` printed (for Playwright): a
        value derived from the token, never the token itself."""
        return {"name": TOKEN_COOKIE, "value": browser_cookie(self.token) if self.token else "",
                "url": self.url}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_worker: bool = False, timeout: float = 30.0) -> LiveServer:
        with spent("service-start"):
            self._launch(timeout)
        if wait_worker:
            self.wait_worker(timeout)
        return self

    def _launch(self, timeout: float) -> None:
        """Start the service and return once /api/health answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        LiveServer.started.append(self)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [*self.wrapper, sys.executable, "-m", "server", "serve", "--port", str(self.port), "--home",
             str(self.home), "--no-browser", "--log-level", "warning", *self.serve_args],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._read_token()
                answer = httpx.get(f"{self.url}/api/health", headers=self.headers, timeout=1.0)
                answer.raise_for_status()
                return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"server not ready in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def wait_worker(self, timeout: float = 120.0) -> None:
        with spent("sandbox-warm"):
            self._wait_for_health(lambda health: health["worker"]["state"] == "ready", timeout)

    def kill9(self) -> None:
        """SIGKILL the whole process group (the service and its grading worker)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    # HTTP helpers ------------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.url + path, params=params or None, headers=self.headers,
                             timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return httpx.post(self.url + path, json=json, headers=self.headers, timeout=30)

    def start_session(self, workspace: Path, exam: str = "smoke", minutes: float | None = None
                      ) -> dict[str, Any]:
        body: dict[str, Any] = {"exam": exam, "workspace": str(workspace)}
        if minutes is not None:
            body["minutes"] = minutes
        response = self.post("/api/sessions", body)
        assert response.status_code == 201, response.text
        return response.json()

    def wait_for(self, session: str, predicate, timeout: float = 60.0, poll: float = 0.1
                 ) -> dict[str, Any]:
        with spent("polling"):
            return self._wait_for(session, predicate, timeout, poll)

    def _wait_for(self, session: str, predicate, timeout: float, poll: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.get(f"/api/sessions/{session}")
            if predicate(status):
                return status
            time.sleep(poll)
        raise TimeoutError(f"condition not met in {timeout}s; last status: {status}")

    def wait_for_health(self, predicate, timeout: float = 30.0) -> dict[str, Any]:
        with spent("polling"):
            return self._wait_for_health(predicate, timeout)

    def _wait_for_health(self, predicate, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            health = self.get("/api/health")
            if predicate(health):
                return health
            time.sleep(0.1)
        raise TimeoutError(f"health not as expected in {timeout}s; last: {health}")

    def question(self, status: dict[str, Any], question_id: str) -> dict[str, Any]:
        return next(q for q in status["questions"] if q["id"] == question_id)


def settled_question(server: LiveServer, session: str, question: str, count: int,
                     timeout: float = 120) -> dict[str, Any]:
    """The question once at least `count` submissions exist and the latest is graded or refused:
    the wait every live grading test shares."""

    def done(status: dict[str, Any]) -> bool:
        q = server.question(status, question)
        return q["submissions"] >= count and q["state"] in ("graded", "error")

    return server.question(server.wait_for(session, done, timeout=timeout), question)
