"""How a client knows it talks to *this* tfexam before it hands over the token, and how the
browser gets in without ever holding the token.

The token is a bearer secret: whoever receives it can change the learner's exam. A client that
sent it to whatever answers the port would give it to any program that bound the port while the
service was down (another user of the machine can do that). So a client first sends a random
nonce to `GET /api/hello` without the token; only a service that knows the token can answer
`HMAC(token, nonce)`; the client compares, and sends `Authorization` only on that connection.
Neither the nonce nor the proof tells a listener anything about the token.

The browser never sees the token at all: `serve`, `tfexam open` and the extension hand it a
one-time code (single use, short-lived) that the page route exchanges for an HttpOnly cookie and
then drops from the address. The cookie holds a value derived from the token, not the token, so
the pages, the access log and the browser's history never carry it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

from fastapi import APIRouter, Query, Request

from server.errors import TfexamError

SERVICE_PROOF = b"tfexam-service-proof\x00"  # domain separation: a proof is never a cookie
BROWSER_COOKIE = b"tfexam-browser-cookie\x00"
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
CODE_SECONDS = 120.0  # long enough for a browser to start on a busy machine, short enough to die
MAX_CODES = 64  # outstanding codes; the oldest goes first (nobody opens 64 browsers at once)


def _mac(token: str, purpose: bytes, message: str) -> str:
    return hmac.new(token.encode(), purpose + message.encode(), hashlib.sha256).hexdigest()


def service_proof(token: str, nonce: str) -> str:
    """What only a service holding `token` can answer to a client's `nonce`."""
    return _mac(token, SERVICE_PROOF, nonce)


def browser_cookie(token: str) -> str:
    """The browser's cookie value: it opens the pages and the API, but is not the token."""
    return _mac(token, BROWSER_COOKIE, "")


class BadNonce(TfexamError):
    status = 400


class BrowserCodes:
    """One-time codes for the browser: each opens the pages once, within CODE_SECONDS.

    In classroom mode a code also remembers whose it is (the token of the learner or instructor
    who asked for it), so the browser that spends it acts for that person, and the token itself
    never travels in an address."""

    def __init__(self, seconds: float = CODE_SECONDS,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.now = now
        self._codes: dict[str, float] = {}  # code -> when it dies (monotonic: the wall may jump)
        self._holders: dict[str, str] = {}  # code -> the token it acts for (classroom mode)
        self._lock = threading.Lock()

    def mint(self, holder: str | None = None) -> str:
        """A new code; `holder` (classroom mode) is the token the browser will act for."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._forget_dead()
            while len(self._codes) >= MAX_CODES:
                oldest = next(iter(self._codes))
                self._codes.pop(oldest)
                self._holders.pop(oldest, None)
            self._codes[code] = self.now() + self.seconds
            if holder is not None:
                self._holders[code] = holder
        return code

    def redeem(self, code: str | None) -> bool:
        """True once for a live code; a used, expired or unknown code is False."""
        return self.redeem_for(code)[0]

    def redeem_for(self, code: str | None) -> tuple[bool, str | None]:
        """(live, holder) once for a live code; (False, None) for a used, expired or unknown one."""
        if not code:
            return False, None
        with self._lock:
            dies = self._codes.pop(code, None)
            holder = self._holders.pop(code, None)
        if dies is None or self.now() > dies:
            return False, None
        return True, holder

    def _forget_dead(self) -> None:
        now = self.now()
        for code in [c for c, dies in self._codes.items() if dies < now]:
            del self._codes[code]
            self._holders.pop(code, None)


def learner_proof(token_sha256: str, nonce: str) -> str:
    """Classroom mode's proof for one learner: the service keeps only the SHA-256 of a learner's
    token, so the proof is keyed by that digest (which the learner computes from the token, and a
    listener without the token cannot)."""
    return _mac(token_sha256, SERVICE_PROOF, nonce)


def identity_router(token: str | None, codes: BrowserCodes,
                    learner_digest: Callable[[str], str | None] | None = None) -> APIRouter:
    """`learner_digest` (classroom mode): a session's learner's token digest, for a client that
    names its session, so a learner's CLI proves the central service as the local one does."""
    api = APIRouter(prefix="/api")

    @api.get("/hello", summary="Prove this is the tfexam that holds the token (no token needed)")
    def hello(nonce: str = Query(max_length=256),
              session: str | None = Query(default=None, max_length=64)) -> dict[str, object]:
        if not NONCE.match(nonce):
            raise BadNonce("The nonce must be 16 to 128 letters, digits, '-' or '_'.")
        digest = learner_digest(session) if learner_digest and session else None
        if digest is not None:
            return {"service": "tfexam", "token_required": True, "keyed_by": "sha256",
                    "proof": learner_proof(digest, nonce)}
        return {"service": "tfexam", "token_required": token is not None,
                "proof": service_proof(token, nonce) if token else None}

    @api.post("/browser-codes", summary="A one-time code that lets a browser open the pages")
    def browser_code(request: Request) -> dict[str, object]:
        # Classroom mode: the code acts for whoever asked (their token, checked by the access
        # rules before this runs); locally there is one token and the code needs no holder.
        holder = getattr(request.state, "classroom_token", None)
        return {"code": codes.mint(holder), "expires_in": codes.seconds}

    return api
