"""The service's proof of who it is, and the browser's one-time codes."""

from __future__ import annotations

import hashlib
import hmac

from fastapi.testclient import TestClient

from server.api.identity import BrowserCodes, browser_cookie, service_proof
from server.app import create_app
from server.clock import ManualClock
from server.config import Settings


def test_the_proof_is_an_hmac_of_the_nonce_that_the_cli_computes_alike() -> None:
    from plugin_bridge.client import SERVICE_PROOF

    expected = hmac.new(b"tok", SERVICE_PROOF + b"n" * 16, hashlib.sha256).hexdigest()
    assert service_proof("tok", "n" * 16) == expected
    assert service_proof("tok", "m" * 16) != expected and service_proof("other", "n" * 16) != expected
    assert "tok" not in browser_cookie("tok") and browser_cookie("tok") != service_proof("tok", "")


def test_a_code_works_once_and_dies_after_its_time() -> None:
    now = [100.0]
    codes = BrowserCodes(seconds=120, now=lambda: now[0])
    first, second = codes.mint(), codes.mint()
    assert first != second
    assert codes.redeem(first) and not codes.redeem(first)
    now[0] += 121
    assert not codes.redeem(second)
    assert not codes.redeem("") and not codes.redeem(None) and not codes.redeem("made-up")


def test_hello_needs_no_token_and_proves_without_revealing_it(tmp_path) -> None:
    settings = Settings.from_env(home=tmp_path / "home", start_worker=False, token="s3cret")
    with TestClient(create_app(settings, ManualClock())) as client:
        reply = client.get("/api/hello", params={"nonce": "abcdefghijklmnop"})
        assert reply.status_code == 200
        assert reply.json() == {"service": "tfexam", "token_required": True,
                                "proof": service_proof("s3cret", "abcdefghijklmnop")}
        assert "s3cret" not in reply.text
        assert client.get("/api/hello", params={"nonce": "short"}).status_code == 400
        assert client.post("/api/browser-codes").status_code == 401
        made = client.post("/api/browser-codes", headers={"Authorization": "Bearer s3cret"})
        assert made.status_code == 200 and made.json()["expires_in"] == 120
