"""Every failure of the CLI is one sentence on stderr and a documented exit code (0 ok, 2 usage,
3 no such session, 4 service unreachable), never a traceback: driven as a subprocess against a
real service, a port where nothing listens, and a port where another program answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import ROOT, LiveServer, free_port


def tfexam(*args: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    """The CLI of this checkout (PYTHONPATH: the venv's editable install may be another one)."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("TFEXAM_URL", "TFEXAM_TOKEN", "TFEXAM_HOME")}
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**clean, "PYTHONPATH": str(ROOT), **(env or {})})


def one_sentence(done: subprocess.CompletedProcess, code: int, starts: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tfexam: " + starts), lines[0]
    assert lines[0].endswith("."), lines[0]


# A program that answers 200 and the same small JSON for every path and method: a health check
# of another service. Reading it as tfexam's is what once ended in `KeyError: 'exam_title'`.
JSON_STRANGER = """
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


def _serve(argv: list[str], cwd: Path) -> Iterator[str]:
    """Runs another program on a free loopback port until the test ends; yields its address."""
    port = free_port()
    process = subprocess.Popen([*argv, str(port)], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stranger(tmp_path: Path) -> Iterator[str]:
    """Another program on a loopback port: Python's own static file server (404 for /api/...)."""
    (tmp_path / "www").mkdir()
    yield from _serve([sys.executable, "-m", "http.server", "--bind", "127.0.0.1"],
                      tmp_path / "www")


@pytest.fixture
def json_stranger(tmp_path: Path) -> Iterator[str]:
    """Another program on a loopback port that answers 200 with unrelated JSON everywhere."""
    yield from _serve([sys.executable, "-c", JSON_STRANGER], tmp_path)


def test_nothing_listening_is_exit_4(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["time"], ["status"], ["submit", "Category1"], ["exams"]):
        one_sentence(tfexam("--url", url, *args, cwd=tmp_path), 4,
                     f"The tfexam service is not running at {url}")


def test_another_program_on_the_port_is_exit_4(tmp_path: Path, stranger: str) -> None:
    for args in (["time"], ["start", "smoke", "--workspace", str(tmp_path / "ws")]):
        one_sentence(tfexam("--url", stranger, *args, cwd=tmp_path), 4,
                     f"Another program answers at {stranger}, not tfexam")
    one_sentence(tfexam("time", cwd=tmp_path, env={"TFEXAM_URL": stranger}), 4,
                 f"Another program answers at {stranger}, not tfexam")


def test_another_program_answering_json_is_exit_4(tmp_path: Path, json_stranger: str) -> None:
    """A 200 with JSON is not enough: only tfexam's own health reply lets a command go on."""
    project = tmp_path / "project"
    (project / ".tfexam").mkdir(parents=True)
    (project / ".tfexam" / "session.json").write_text(json.dumps(
        {"server": json_stranger, "session": "s1", "token": "t"}))
    said = f"Another program answers at {json_stranger}, not tfexam"
    for args in (["time"], ["status"], ["submit", "Q1"], ["exams"], ["finish"], ["report"],
                 ["start", "smoke", "--workspace", str(tmp_path / "ws")]):
        one_sentence(tfexam("--url", json_stranger, *args, cwd=project), 4, said)
    # The same when the address comes from the project, as it does in the IDE's buttons.
    one_sentence(tfexam("time", cwd=project), 4, said)


def test_bad_arguments_are_exit_2(tmp_path: Path) -> None:
    one_sentence(tfexam("submit", cwd=tmp_path), 2, "the following arguments are required")
    one_sentence(tfexam("start", "smoke", "--workspace", "x", "--keras", "4", cwd=tmp_path), 2,
                 "argument --keras: invalid choice")
    one_sentence(tfexam("frobnicate", cwd=tmp_path), 2, "argument command: invalid choice")


def test_sessions_that_do_not_exist_are_exit_3(server: LiveServer, tmp_path: Path) -> None:
    env = {"TFEXAM_HOME": str(server.home)}
    one_sentence(tfexam("--url", server.url, "time", cwd=tmp_path, env=env), 3,
                 "No running session here")
    one_sentence(tfexam("--url", server.url, "status", "--session", "nope", cwd=tmp_path,
                        env=env), 3, f"The service at {server.url} has no session 'nope'")
    one_sentence(tfexam("--url", server.url, "start", "nope", "--workspace",
                        str(tmp_path / "ws"), cwd=tmp_path, env=env), 2,
                 "There is no exam called 'nope'")
    # A wrong token: tfexam answers but refuses, which the learner fixes like an address.
    one_sentence(tfexam("--url", server.url, "time", cwd=tmp_path,
                        env={"TFEXAM_TOKEN": "not-the-token"}), 4,
                 f"The service at {server.url} could not prove it is your tfexam")
