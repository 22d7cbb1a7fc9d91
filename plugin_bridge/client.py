"""A small HTTP client for the tfexam REST API and its event stream (standard library only).

Before its first request it checks that what answers is tfexam (its `/api/health` names itself),
so another program on the port is one sentence, not a `KeyError` deep in a command.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plugin_bridge.errors import ApiError, NotTfexam, ServiceUnreachable, TokenRefused

HEALTH_TIMEOUT = 5.0
# The keys only tfexam's health reply has together, for services from before its "service" field.
HEALTH_KEYS = {"worker", "api_imports_tensorflow", "schema_version"}


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]


def _event(fields: dict[str, str], data: list[str]) -> Event | None:
    """One event from its fields, or None for a comment, a retry line or a garbled block."""
    if not data or "id" not in fields:
        return None
    try:
        return Event(int(fields["id"]), fields.get("event", ""), json.loads("\n".join(data)))
    except ValueError:
        return None


def is_tfexam_health(reply: Any) -> bool:
    return isinstance(reply, dict) and (reply.get("service") == "tfexam"
                                        or set(reply) >= HEALTH_KEYS)


class Client:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._checked = False
        self.health: dict[str, Any] | None = None

    # plumbing ---------------------------------------------------------------------------------
    def _open(self, method: str, path: str, body: dict[str, Any] | None,
              query: dict[str, str] | None, timeout: float | None,
              accept: str = "application/json") -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", accept)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise ServiceUnreachable(
                f"The tfexam service is not running at {self.url} ({reason}): start it with "
                "'tfexam serve' (or 'make serve'), or pass the right address with --url."
            ) from error

    def _refusal(self, error: urllib.error.HTTPError) -> ApiError:
        try:
            detail = json.loads(error.read()).get("detail", error.reason)
        except (ValueError, AttributeError, OSError):
            detail = str(error.reason)
        return ApiError(error.code, str(detail))

    def check(self) -> dict[str, Any]:
        """The service's health, once it is proven to be tfexam; raises a sentence otherwise."""
        if self.health is not None:
            return self.health
        try:
            with self._open("GET", "/api/health", None, None, HEALTH_TIMEOUT) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            refusal = self._refusal(error)
            if error.code == 401 and "token" in str(refusal).lower():
                raise TokenRefused(
                    f"The tfexam service at {self.url} needs its token: run the command inside "
                    "the exam's project folder, or set TFEXAM_TOKEN to the token in the "
                    "service's home folder (the file 'token')."
                ) from error
            raise NotTfexam(self._stranger()) from error
        try:
            reply = json.loads(raw)
        except ValueError:
            reply = None
        if not is_tfexam_health(reply):
            raise NotTfexam(self._stranger())
        self.health = dict(reply)
        return self.health

    def _stranger(self) -> str:
        return (f"Another program answers at {self.url}, not tfexam: start tfexam on a free port "
                "('tfexam serve --port 8766') and pass --url, or stop that program.")

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: dict[str, str] | None = None, timeout: float | None = -1.0) -> Any:
        self.check()
        try:
            with self._open(method, path, body, query,
                            self.timeout if timeout == -1.0 else timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from error
        except (OSError, http.client.HTTPException) as error:
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} stopped answering ({error}): check that it "
                "is still running ('tfexam serve')."
            ) from error
        try:
            return json.loads(raw or b"null")
        except ValueError as error:
            raise NotTfexam(self._stranger()) from error

    def get(self, path: str, **query: str) -> Any:
        return self.request("GET", path, query=query or None)

    def post(self, path: str, body: dict[str, Any] | None = None,
             timeout: float | None = -1.0) -> Any:
        return self.request("POST", path, body if body is not None else {}, timeout=timeout)

    def raw(self, method: str, path: str, data: bytes | None = None,
            headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> bytes:
        """A request with a body of bytes, or for a reply of bytes (uploads, archives)."""
        self.check()
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url, data=data, method=method)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from error
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} does not answer just now "
                f"({getattr(error, 'reason', error)})."
            ) from error

    # the event stream -------------------------------------------------------------------------
    def events(self, session: str, after: int = 0) -> Iterator[Event]:
        """Server-sent events of a session from `after` on; ends when the stream ends."""
        self.check()
        try:
            response = self._open("GET", f"/api/sessions/{session}/events",
                                  None, {"after": str(after)}, timeout=60.0,
                                  accept="text/event-stream")
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from error
        with response:
            fields: dict[str, str] = {}
            data: list[str] = []
            try:
                for raw in response:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line == "":
                        event = _event(fields, data)
                        if event is not None:
                            yield event
                        fields, data = {}, []
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif ":" in line and not line.startswith(":"):
                        key, _, value = line.partition(":")
                        fields[key] = value.lstrip()
            except (TimeoutError, OSError, http.client.HTTPException):
                return
