"""A hung service, in real Chromium: the exam page says it is not answering within 5 s and
recovers by itself once the service runs again.

A normal stop hangs up every event stream at once, so the page hears it from the broken stream.
A frozen service (SIGSTOP: its connections stay open, no data flows) breaks nothing; only the
page's heartbeat-silence check can tell, and this test is about that check alone."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.pages.conftest import LAPTOP, shot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_a_hung_service_is_said_within_seconds_and_the_page_recovers(
        chromium, server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    started = server.start_session(tmp_path / "project", minutes=30)
    context = chromium.new_context(viewport=LAPTOP)
    if server.token:
        context.add_cookies([server.cookie()])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(20_000)
    try:
        tab.goto(f"{server.url}/sessions/{started['session']}")
        live = tab.locator("#live")
        banner = tab.locator("#service-down")
        expect(live).to_have_text("live updates on", timeout=20_000)
        expect(banner).to_be_hidden()

        # The page notes the wall-clock moment the banner shows: expect() polls up to a second
        # apart, too coarse to time a 5 s promise on its own.
        tab.evaluate("""() => new MutationObserver((_, observer) => {
            if (document.getElementById("service-down").hidden) return;
            window.bannerShownAt = Date.now(); observer.disconnect();
        }).observe(document.getElementById("service-down"), {attributes: true})""")
        # The whole process group (service and grading worker) stops, as a hung machine does.
        frozen = time.time()
        os.killpg(server.process.pid, signal.SIGSTOP)
        try:
            expect(banner).to_be_visible(timeout=5_500)
            said = tab.evaluate("window.bannerShownAt") / 1000 - frozen
            print(f"the page said the service was not answering {said:.1f} s after SIGSTOP")
            assert said < 5.5
            expect(live).to_have_text("service not answering", timeout=1_000)
            shot(tab, "hung-service-not-answering")
        finally:
            os.killpg(server.process.pid, signal.SIGCONT)

        resumed = time.monotonic()
        expect(live).to_have_text("live updates on", timeout=10_000)
        expect(banner).to_be_hidden(timeout=10_000)
        back = time.monotonic() - resumed
        print(f"the page recovered {back:.1f} s after SIGCONT")
        assert back < 10.0
        shot(tab, "hung-service-back")
    finally:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"
