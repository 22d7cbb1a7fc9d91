"""Real headless Chromium (the system's, never a downloaded one) for the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import ROOT
from tests.support.timing import spent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts"
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        with spent("browser-start"):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh profile per test, on a laptop-sized screen; console errors fail the test. With the
    module's service running, the profile holds its token cookie, as after opening the address
    that `tfexam serve` printed."""
    context = chromium.new_context(viewport=LAPTOP)
    if "shared_server" in request.fixturenames and request.getfixturevalue("shared_server").token:
        context.add_cookies([request.getfixturevalue("shared_server").cookie()])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(20_000)
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def shot(page, name: str, full_page: bool = False) -> Path:
    """A screenshot kept as a test artefact, to look at (tests/artifacts/ is git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
