"""A small HTTP client for the tfexam REST API (standard library only, so any IDE's Python can
run it)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8765"


def _default_home() -> Path:
    try:
        import platformdirs
    except ImportError:  # the standard library's guess of the same folder
        return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "tfexam"
    return Path(platformdirs.user_data_dir("tfexam"))


def find_token(start: Path | None = None) -> str | None:
    """The service's token, as a learner's tools find it: TFEXAM_TOKEN, else the project's
    `.tfexam/session.json` above the current folder, else the `token` file of the service's home
    (TFEXAM_HOME or the user data folder). None when none is readable (token turned off)."""
    given = os.environ.get("TFEXAM_TOKEN")
    if given:
        return given
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        marker = folder / ".tfexam" / "session.json"
        try:
            token = json.loads(marker.read_text(encoding="utf-8")).get("token")
        except (OSError, ValueError, AttributeError):
            continue
        if token:
            return str(token)
        break
    home = Path(os.environ.get("TFEXAM_HOME") or _default_home()).expanduser()
    try:
        return (home / "token").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class ApiError(Exception):
    """The service answered with an error; the message is its sentence."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class Client:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0):
        self.url = (url or os.environ.get("TFEXAM_URL") or DEFAULT_URL).rstrip("/")
        self.token = token or find_token()
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: dict[str, str] | None = None) -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read()).get("detail", error.reason)
            except ValueError:
                detail = str(error.reason)
            raise ApiError(error.code, str(detail)) from error
        except urllib.error.URLError as error:
            raise ApiError(0, f"The tfexam service is not reachable at {self.url} ({error.reason})"
                           ": start it with 'tfexam serve'.") from error

    def get(self, path: str, **query: str) -> Any:
        return self.request("GET", path, query=query or None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body if body is not None else {})
