"""Only you can change your exam: a token by default, kept private in the home folder, handed to
the browser once and then as an HttpOnly SameSite=Strict cookie; another user of the machine can
neither read nor change a session."""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from server.access_token import resolve_token
from tests.support.live_server import LiveServer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_token_made_once_kept_private_and_overridable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = resolve_token(home, env={})
    assert made and len(made) >= 32
    assert _mode(home) == 0o700 and _mode(home / "token") == 0o600
    assert resolve_token(home, env={}) == made  # kept across starts
    assert resolve_token(home, env={"TFEXAM_TOKEN": "mine"}) == "mine"
    assert resolve_token(home, env={"TFEXAM_NO_TOKEN": "1"}) is None
    assert resolve_token(home, env={}, disabled=True) is None


def test_the_token_guards_api_pages_and_marker(server: LiveServer, tmp_path: Path) -> None:
    assert server.token and server.token == (server.home / "token").read_text().strip()
    # `serve` prints (and would open) an address with a one-time code, never the token.
    printed = re.search(rf"tfexam: ready: open {re.escape(server.url)}/\?code=([\w-]+) ",
                        server.log_path.read_text())
    assert printed, server.log_path.read_text()
    assert httpx.get(server.url + "/api/sessions").status_code == 401
    assert httpx.get(server.url + "/api/sessions", params={"token": server.token}
                     ).status_code == 401, "a token in an address is never taken"
    started = server.start_session(tmp_path / "ws", minutes=10)
    marker_dir = Path(started["project_dir"]) / ".tfexam"
    marker = json.loads((marker_dir / "session.json").read_text())
    assert marker["token"] == server.token and marker["server"].startswith("http://127.0.0.1:")
    assert _mode(marker_dir) == 0o700 and _mode(marker_dir / "session.json") == 0o600

    page = f"{server.url}/sessions/{started['session']}"
    assert httpx.get(page).status_code == 401
    assert httpx.get(f"{page}?token={server.token}").status_code == 401
    opened = httpx.get(f"{page}?code={printed.group(1)}")
    assert opened.status_code == 200  # a page that moves on to the address without the code
    assert f'content="0;url=/sessions/{started["session"]}"' in opened.text
    assert printed.group(1) not in opened.text
    cookie = opened.headers["set-cookie"].lower()
    assert "tfexam_token=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert server.token.lower() not in cookie, "the cookie is derived from the token, not it"
    jar = dict(opened.cookies)
    shown = httpx.get(page, cookies=jar)
    assert shown.status_code == 200 and server.token not in shown.text
    assert httpx.get(f"{page}?code={printed.group(1)}").status_code == 401, "a code works once"
    assert httpx.get(f"{server.url}/api/sessions/{started['session']}", cookies=jar
                     ).status_code == 200  # the page's own calls ride on the cookie
    finish = httpx.post(f"{server.url}/api/sessions/{started['session']}/finish")
    assert finish.status_code == 401
    assert server.get(f"/api/sessions/{started['session']}")["state"] == "running"


def test_serve_hands_the_browser_its_code_in_a_private_file(tmp_path: Path) -> None:
    from server.__main__ import browser_handoff

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    uri = browser_handoff(home, "http://127.0.0.1:8765/?code=abc&x=<y>")
    assert uri == (home / "open-browser.html").as_uri() and "abc" not in uri
    assert _mode(home / "open-browser.html") == 0o600
    text = (home / "open-browser.html").read_text()
    assert 'content="0;url=http://127.0.0.1:8765/?code=abc&amp;x=&lt;y&gt;"' in text


@pytest.mark.parametrize("how", ["option", "variable"])
def test_no_token_turns_the_check_off(tmp_path: Path, keras_home: Path, how: str) -> None:
    live = LiveServer(tmp_path / "home", env={"TFEXAM_NO_TOKEN": "1"} if how == "variable"
                      else None, serve_args=["--no-token"] if how == "option" else None).start()
    try:
        assert live.token is None and not (live.home / "token").exists()
        assert httpx.get(live.url + "/api/sessions").status_code == 200
        assert f"tfexam: serving {live.url}/ " in live.log_path.read_text()  # no token to hand
    finally:
        live.stop()


OTHER_USER_PROBE = r"""
import json, sys, urllib.request, urllib.error
url, session, home, project = sys.argv[1:5]
out = {}
for name, path in (("token", home + "/token"), ("db", home + "/tfexam.sqlite3"),
                   ("marker", project + "/.tfexam/session.json")):
    try:
        open(path, "rb").read(1)
        out[name] = "read"
    except OSError as why:
        out[name] = type(why).__name__
for name, method, path in (("status", "GET", "/api/sessions/" + session),
                           ("list", "GET", "/api/sessions"),
                           ("finish", "POST", "/api/sessions/" + session + "/finish"),
                           ("submit", "POST", "/api/sessions/" + session + "/questions/Q1/submit")):
    request = urllib.request.Request(url + path, method=method, data=b"{}" if method == "POST"
                                     else None, headers={"Content-Type": "application/json"})
    try:
        out[name] = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        out[name] = error.code
print(json.dumps(out))
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"),
                    reason="needs root, useradd and setpriv to act as another user")
def test_another_user_can_neither_read_nor_change_a_session(keras_home: Path) -> None:
    # A world-traversable place, so that only tfexam's own modes stand in the other user's way.
    base = Path(tempfile.mkdtemp(prefix="tfexam-users-", dir="/tmp"))
    base.chmod(0o755)
    name = "tfx" + secrets.token_hex(4)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True)
    live = LiveServer(base / "home")
    try:
        live.start()
        started = live.start_session(base / "ws", minutes=10)
        base.joinpath("ws").chmod(0o755)  # even a project folder open to all keeps its marker
        uid = pwd.getpwnam(name).pw_uid
        probe = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/usr/bin/python3",
             "-c", OTHER_USER_PROBE, live.url, started["session"], str(live.home),
             started["project_dir"]],
            capture_output=True, text=True, timeout=60, cwd="/")
        assert probe.returncode == 0, probe.stderr
        seen = json.loads(probe.stdout)
        assert seen["token"] == seen["db"] == seen["marker"] == "PermissionError", seen
        assert seen["status"] == seen["list"] == seen["finish"] == seen["submit"] == 401, seen
        assert live.get(f"/api/sessions/{started['session']}")["state"] == "running"
    finally:
        live.stop()
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)
