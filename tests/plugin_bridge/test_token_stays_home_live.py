"""The token never leaves the learner: while the service is down, another user's program on its
port answers like tfexam and records every byte it is sent; the CLI (every command a learner runs
in the project) and the VS Code extension's own client and event stream (its built modules, run by
Node) talk to it, refuse with one sentence, and the token is not among the bytes it received.
Then the learner restarts tfexam and the exam goes on with nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import ROOT, LiveServer
from tests.support.stranger import Stranger

EXTENSION = ROOT / "plugin_bridge" / "vscode"

# The extension's Api and EventStream as extension.ts uses them, against the project's address.
EXTENSION_PROBE = r"""
const [out, marker] = process.argv.slice(1);
const { Api } = require(out + "/api.js");
const { EventStream } = require(out + "/events.js");
const { asSessionFile } = require(out + "/guards.js");
const fs = require("fs");
const project = asSessionFile(JSON.parse(fs.readFileSync(marker, "utf8")));
const api = new Api(project);
const seen = {};
(async () => {
  for (const [name, call] of [["status", () => api.status()], ["submit", () => api.submit("Q1")],
                              ["finish", () => api.finish()],
                              ["page", () => api.pageUrl("/sessions/" + project.session)]]) {
    try { seen[name] = "answered: " + JSON.stringify(await call()); }
    catch (e) { seen[name] = e.constructor.name + ": " + e.message; }
  }
  const stream = new EventStream(api, {
    onEvent() { seen.event = "received"; }, onConnected() { seen.stream = "connected"; },
    onDisconnected(reason) { seen.stream = seen.stream || reason; } }, 0);
  stream.start();
  await new Promise((r) => setTimeout(r, 5000));  // two retries of the stream at least
  stream.stop();
  console.log(JSON.stringify(seen));
})();
"""


EXTENSION_BACK = r"""
const [out, marker] = process.argv.slice(1);
const { Api } = require(out + "/api.js");
const { asSessionFile } = require(out + "/guards.js");
const api = new Api(asSessionFile(JSON.parse(require("fs").readFileSync(marker, "utf8"))));
(async () => {
  const status = await api.status();
  console.log(JSON.stringify([status.state, await api.pageUrl("/sessions/" + status.session)]));
})();
"""


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _built_extension() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("needs Node's npm to build the extension (.ci/run installs it)")
    built = subprocess.run(["make", "vsix"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return EXTENSION / "out"


def test_a_listener_on_the_port_never_receives_the_token(tmp_path: Path, keras_home: Path
                                                         ) -> None:
    out = _built_extension()
    service = LiveServer(tmp_path / "home").start()
    project = tmp_path / "exam"
    try:
        started = service.start_session(project, minutes=30)
    finally:
        service.stop()  # the learner's service is down: the port is free for anyone to take
    token = service.token
    assert token
    marker = project / ".tfexam" / "session.json"

    stranger = Stranger()
    learner = {k: v for k, v in os.environ.items()
               if k not in ("TFEXAM_URL", "TFEXAM_TOKEN", "TFEXAM_HOME")}
    learner.update(PYTHONPATH=str(ROOT), TFEXAM_HOME=str(service.home),
                   BROWSER=f"{sys.executable} -c \"open({str(tmp_path / 'opened')!r}, 'w')"
                           f".write(__import__('sys').argv[1])\" %s")
    said: dict[str, subprocess.CompletedProcess] = {}
    try:
        stranger.start(service.port)
        for args in (["time"], ["status"], ["submit", "Q1", "--wait"], ["finish"], ["report"],
                     ["open"], ["watch"], ["doctor"]):
            said[" ".join(args)] = _cli(*args, cwd=project, env=learner)
        probe = subprocess.run(["node", "-e", EXTENSION_PROBE, str(out), str(marker)],
                               capture_output=True, text=True, timeout=60)
    finally:
        stranger.stop()
    received = stranger.received()
    stranger.remove()
    # First what matters: the listener was really asked (a challenge per connection), and was
    # never given the token, by any command or by the extension.
    assert token.encode() not in received, "the listener received the token"
    assert received.count(b"GET /api/hello?nonce=") >= 10, received[:2000]
    assert b"authorization" not in received.lower()
    assert b"cookie" not in received.lower()
    # Then that each one said so in a sentence.
    for command, done in said.items():
        if command == "doctor":  # a verdict, not a refusal: it says the service is not there
            assert "could not prove it is your tfexam" in done.stdout, done.stdout
            continue
        assert done.returncode == 4, (command, done.returncode, done.stdout, done.stderr)
        assert "could not prove it is your tfexam" in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "opened").exists(), "no browser was sent anywhere"
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout)
    for name in ("status", "submit", "finish", "page"):
        assert seen[name].startswith("ServiceUnreachable: What answers at"), seen
        assert "could not prove it is your tfexam" in seen[name], seen
    assert "stream" in seen and seen["stream"] != "connected", seen
    assert "event" not in seen, seen

    service.start()  # the learner restarts tfexam: the exam goes on, nothing was done to it
    try:
        status = service.get(f"/api/sessions/{started['session']}")
        assert status["state"] == "running"
        done = _cli("time", cwd=project, env=learner)
        assert done.returncode == 0, done.stderr
        # With the real service back, the extension proves it and gets on: its status, and the exam
        # page's one-time address, which lets a browser in once.
        back = subprocess.run(["node", "-e", EXTENSION_BACK, str(out), str(marker)],
                              capture_output=True, text=True, timeout=60)
        assert back.returncode == 0, back.stderr
        state, address = json.loads(back.stdout)
        assert state == "running"
        assert address.startswith(f"{service.url}/sessions/{started['session']}?code=")
        assert token not in address
        entered = httpx.get(address)
        assert entered.status_code == 200 and entered.cookies.get("tfexam_token")
        assert httpx.get(address).status_code == 401, "the code works once"
    finally:
        service.stop()
