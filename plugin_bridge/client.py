"""A small HTTP client for the tfexam REST API and its event stream (standard library only).

Before its first request it checks that what answers is tfexam (its `/api/health` names itself),
so another program on the port is one sentence, not a `KeyError` deep in a command. With a token,
each connection first asks the service to prove it knows the token (`/api/hello`, an HMAC of a
fresh nonce), so a program that took the port while tfexam was down never receives it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from plugin_bridge.errors import ApiError, NotTfexam, ServiceUnreachable, TokenRefused

HEALTH_TIMEOUT = 5.0
JSON = "application/json"
# The same domain separation as the service's (server/api/identity.py); the CLI never imports it.
SERVICE_PROOF = b"tfexam-service-proof\x00"
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
    """Every request goes on its own connection, and when the client holds a token that
    connection first proves it reaches the tfexam that knows the token (see `_prove`): the token
    is never written to a socket whose other end has not answered the challenge."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0,
                 session: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        # A classroom learner names their session: the central service proves it holds that
        # learner's token (it keeps only its SHA-256, so the proof is keyed by that digest).
        self.session = session
        self.timeout = timeout
        self._checked = False
        self.health: dict[str, Any] | None = None
        parts = urllib.parse.urlsplit(self.url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._https = parts.scheme == "https"

    # plumbing ---------------------------------------------------------------------------------
    def _unreachable(self, error: BaseException) -> ServiceUnreachable:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        return ServiceUnreachable(
            f"The tfexam service is not running at {self.url} ({reason}): start it with "
            "'tfexam serve' (or 'make serve'), or pass the right address with --url.")

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=timeout)

    def _prove(self, connection: http.client.HTTPConnection) -> bool:
        """Ask the listener to prove it holds our token, without sending it: True when it did
        (the token may go on this connection), False when the service takes no token; raises
        when what answers cannot prove it."""
        nonce = secrets.token_urlsafe(24)
        query = urllib.parse.urlencode({"nonce": nonce, **({"session": self.session}
                                                            if self.session else {})})
        connection.request("GET", f"/api/hello?{query}", headers={"Accept": JSON})
        response = connection.getresponse()
        raw = response.read()
        try:
            reply = json.loads(raw) if response.status == 200 else None
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or reply.get("service") != "tfexam":
            raise NotTfexam(self._stranger())
        proof = reply.get("proof")
        if proof is None and reply.get("token_required") is False:
            return False
        key = self.token or ""
        if reply.get("keyed_by") == "sha256":
            key = hashlib.sha256(key.encode()).hexdigest()
        expected = hmac.new(key.encode(), SERVICE_PROOF + nonce.encode(), hashlib.sha256).hexdigest()
        if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
            raise TokenRefused(
                f"The service at {self.url} could not prove it is your tfexam (it does not know "
                "your token), so the token was not sent: run the command inside the exam's "
                "project folder, or set TFEXAM_TOKEN to the token in that service's home folder "
                "(the file 'token'); if tfexam is not running, another program holds the port.")
        return True

    def _open(self, method: str, path: str, body: dict[str, Any] | None,
              query: dict[str, str] | None, timeout: float | None,
              accept: str = JSON, payload: bytes | None = None,
              extra_headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """A response to read (the caller closes it); HTTPError-like status codes are returned,
        not raised. The token goes only on a connection that `_prove` accepted. The body is JSON
        (`body`) or bytes as they are (`payload`, with their own `extra_headers`)."""
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else payload
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers or {})
        connection = self._connection(timeout)
        try:
            if self.token and self._prove(connection):
                if connection.sock is None:  # it closed after the proof: a new socket is unproven
                    raise ConnectionResetError("the service closed the proven connection")
                headers["Authorization"] = f"Bearer {self.token}"
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise self._unreachable(error) from error
        except BaseException:
            connection.close()
            raise
        return response

    def _refusal(self, response: http.client.HTTPResponse) -> ApiError:
        try:
            detail = json.loads(response.read()).get("detail", response.reason)
        except (ValueError, AttributeError, OSError, http.client.HTTPException):
            detail = str(response.reason)
        return ApiError(response.status, str(detail))

    def check(self) -> dict[str, Any]:
        """The service's health, once it is proven to be tfexam; raises a sentence otherwise."""
        if self.health is not None:
            return self.health
        with self._open("GET", "/api/health", None, None, HEALTH_TIMEOUT) as response:
            if response.status >= 400:
                refusal = self._refusal(response)
                if response.status == 401 and "token" in str(refusal).lower():
                    raise TokenRefused(
                        f"The tfexam service at {self.url} needs its token: run the command "
                        "inside the exam's project folder, or set TFEXAM_TOKEN to the token in "
                        "the service's home folder (the file 'token').")
                raise NotTfexam(self._stranger())
            try:
                raw = response.read()
            except (OSError, http.client.HTTPException) as error:
                raise self._unreachable(error) from error
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
                if response.status >= 400:
                    raise self._refusal(response)
                raw = response.read()
        except ServiceUnreachable as error:
            if isinstance(error, (NotTfexam, TokenRefused)):
                raise
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} stopped answering ({error.__cause__ or error}"
                "): check that it is still running ('tfexam serve').") from error
        except (OSError, http.client.HTTPException) as error:
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} stopped answering ({error}): check that it "
                "is still running ('tfexam serve').") from error
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
        """A request with a body of bytes, or for a reply of bytes (uploads, archives): on a
        proven connection too, like every other request."""
        self.check()
        try:
            with self._open(method, path, None, query, self.timeout, accept="*/*",
                            payload=data, extra_headers=headers) as response:
                if response.status >= 400:
                    raise self._refusal(response)
                return bytes(response.read())
        except (OSError, http.client.HTTPException) as error:
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} stopped answering ({error}): check that it "
                "is still running ('tfexam serve').") from error

    def download(self, path: str, sink: BinaryIO, start: int = 0) -> dict[str, str]:
        """A file's bytes written to `sink` as they arrive (a data set is tens of megabytes), from
        byte `start` on when the service can (it answers 206); when it sends the whole file
        instead, `sink` is emptied first. Returns the reply's headers (lower-case names)."""
        self.check()
        headers = {"Range": f"bytes={start}-"} if start > 0 else {}
        try:
            with self._open("GET", path, None, None, self.timeout, accept="*/*",
                            extra_headers=headers) as response:
                if response.status >= 400:
                    raise self._refusal(response)
                if start > 0 and response.status != 206:  # the whole file came instead
                    sink.seek(0)
                    sink.truncate()
                for block in iter(lambda: response.read(1 << 20), b""):
                    sink.write(block)
                return {name.lower(): value for name, value in response.getheaders()}
        except (http.client.HTTPException, ConnectionError, TimeoutError) as error:
            raise ServiceUnreachable(
                f"The tfexam service at {self.url} stopped answering ({error}): check that it "
                "is still running ('tfexam serve').") from error

    # the event stream -------------------------------------------------------------------------
    def events(self, session: str, after: int = 0) -> Iterator[Event]:
        """Server-sent events of a session from `after` on; ends when the stream ends."""
        self.check()
        response = self._open("GET", f"/api/sessions/{session}/events",
                              None, {"after": str(after)}, timeout=60.0,
                              accept="text/event-stream")
        if response.status >= 400:
            with response:
                raise self._refusal(response)
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
