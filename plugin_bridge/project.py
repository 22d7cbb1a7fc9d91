"""Where the CLI finds its service, token and session: the project's `.tfexam/session.json`.

Order for the address: `--url`, then `TFEXAM_URL`, then the project's recorded `server`, then the
default. The token: `TFEXAM_TOKEN`, then the project's (when talking to the project's own
service), then the service home's `token` file (contract 1). A command run anywhere inside an
exam project therefore reaches the service that created it, whatever port that was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from plugin_bridge.errors import UsageError

DEFAULT_URL = "http://127.0.0.1:8765"
SESSION_FILE = Path(".tfexam") / "session.json"


@dataclass(frozen=True)
class Project:
    """An exam project folder, as its `.tfexam/session.json` describes it."""

    root: Path
    session: str
    server: str | None
    token: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Target:
    """The service this command talks to, and why that one."""

    url: str
    token: str | None
    project: Project | None
    url_from: str


def find_project(start: Path | None = None) -> Project | None:
    """The project whose folder holds `start` (default: the current folder), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        marker = folder / SESSION_FILE
        if not marker.is_file():
            continue
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("session"), str):
            server = data.get("server")
            token = data.get("token")
            return Project(folder, data["session"], _loopback(server) if isinstance(server, str)
                           else None, token if isinstance(token, str) and token else None, data)
    return None


def _loopback(url: str) -> str:
    """A service bound to every interface is reached on loopback."""
    return url.rstrip("/").replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//127.0.0.1:")


def home_token() -> str | None:
    """The token the service keeps in its home folder, readable by the same user only."""
    home = os.environ.get("TFEXAM_HOME")
    if not home:
        try:
            import platformdirs
        except ImportError:
            return None
        home = platformdirs.user_data_dir("tfexam")
    try:
        return (Path(home).expanduser() / "token").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _checked_url(url: str, source: str) -> str:
    """An address the CLI can reach: http(s)://host[:port], nothing after it. A bad one is a usage
    error naming where it came from, not a traceback from deep inside urllib."""
    try:
        TypeAdapter(AnyHttpUrl).validate_python(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("a path")
    except (ValidationError, ValueError):
        name = "--url" if source == "--url" else source
        raise UsageError(f"{name}={url!r} is not allowed: it must be the service's address, "
                         "http://HOST:PORT (for example http://127.0.0.1:8765).") from None
    return url


def resolve_target(explicit_url: str | None, start: Path | None = None) -> Target:
    project = find_project(start)
    if explicit_url:
        url, source = explicit_url, "--url"
    elif os.environ.get("TFEXAM_URL"):
        url, source = os.environ["TFEXAM_URL"], "TFEXAM_URL"
    elif project and project.server:
        url, source = project.server, f"{project.root / SESSION_FILE}"
    else:
        url, source = DEFAULT_URL, "the default address"
    url = _checked_url(url.strip().rstrip("/"), source)
    token = os.environ.get("TFEXAM_TOKEN", "").strip() or None
    if token is None and project and project.token and project.server == url:
        token = project.token
    if token is None:
        token = home_token()
    return Target(url, token, project, source)
