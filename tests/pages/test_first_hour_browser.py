"""A newcomer's first hour, in real Chromium at a laptop's 1280x720 and a phone's 390x844: missing
data is marked and refused at once, the time left stays in view and in the tab title, cards are
coloured by score, Submit and Test always answers and keeps the focus, a model saved in the wrong
place is reported, and a stopped service is said within seconds and recovered from by itself.
Every step leaves a screenshot in tests/artifacts/ to look at."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.pages.conftest import shot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

VIEWPORTS = {"laptop": {"width": 1280, "height": 720}, "phone": {"width": 390, "height": 844}}
RED = "rgb(180, 35, 24)"
GREEN = "rgb(30, 123, 52)"


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    return expect


@contextmanager
def browser_tab(chromium, server: LiveServer, viewport: dict[str, int]) -> Iterator:
    """A fresh profile at the given size, holding the service's token cookie as after opening the
    address `tfexam serve` printed; uncaught script errors fail the test."""
    context = chromium.new_context(viewport=viewport)
    if server.token:
        context.add_cookies([server.cookie()])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(20_000)
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def no_sideways_scroll(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def wider_than_the_screen(tab) -> list[str]:
    """What sticks out sideways, to name it when the page scrolls sideways."""
    return tab.evaluate("""() => Array.from(document.querySelectorAll("body *"))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 8).map(e => e.tagName + "." + e.className + " " +
                         Math.round(e.getBoundingClientRect().right))""")


def fully_in_view(tab, selector: str) -> bool:
    box = tab.locator(selector).bounding_box()
    size = tab.viewport_size
    return bool(box) and box["y"] >= 0 and box["x"] >= 0 and \
        box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"]


def scroll_to_bottom(tab) -> None:
    tab.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    tab.wait_for_function("window.scrollY + window.innerHeight >= "
                          "document.documentElement.scrollHeight - 2")


def border_colour(card) -> str:
    return card.evaluate("card => getComputedStyle(card).borderLeftColor")


# ------------------------------------------------------------------------------ item 2: data
@pytest.fixture(scope="module")
def dataless_server(tmp_path_factory: pytest.TempPathFactory, keras_home: Path):
    """A service offline with an empty mirror: as a learner without TFEXAM_DATASETS is."""
    root = tmp_path_factory.mktemp("dataless")
    (root / "mirror").mkdir()
    live = LiveServer(root / "home", env={"TFEXAM_DATASETS": str(root / "mirror"),
                                          "TFEXAM_OFFLINE": "1",
                                          "KERAS_HOME": str(root / "keras")}).start()
    yield live
    live.stop()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_missing_data_is_marked_and_refused_at_once(chromium, dataless_server: LiveServer,
                                                     tmp_path: Path, size: str) -> None:
    expect = _expect()
    with browser_tab(chromium, dataless_server, VIEWPORTS[size]) as tab:
        tab.goto(dataless_server.url + "/")
        developer = tab.locator('.exam-choice:has(#exam-tf-developer)')
        expect(developer.locator(".flag")).to_have_text("data missing")
        expect(developer).to_contain_text("Cannot start on this machine: Category4 needs sarcasm "
                                          "or bbc-text; Category5 needs sunspots or "
                                          "daily-min-temperatures.")
        expect(developer.locator("li.blocked")).to_have_count(2)
        expect(tab.locator('.exam-choice:has(#exam-smoke) .flag')).to_have_count(0)
        developer.get_by_text("Which data is missing").click()
        expect(developer.locator("ul.missing")).to_contain_text("go online once")
        assert no_sideways_scroll(tab)
        shot(tab, f"first-hour-home-missing-data-{size}", full_page=True)

        tab.locator("#exam-tf-developer").check()
        tab.get_by_label("Project folder").fill(str(tmp_path / "project"))
        started = time.monotonic()
        tab.get_by_role("button", name="Start exam").click()
        error = tab.locator("#start-error")
        expect(error).to_contain_text("cannot start here")
        assert time.monotonic() - started < 5.0, "refused at once, not after preparing data"
        expect(error).to_contain_text("Category4 needs sarcasm or bbc-text")
        expect(error).to_contain_text("set TFEXAM_DATASETS to a mirror folder and restart tfexam")
        assert not (tmp_path / "project").exists()
        error.scroll_into_view_if_needed()
        box = error.bounding_box()
        assert box and box["x"] + box["width"] <= VIEWPORTS[size]["width"], "the message fits"
        assert no_sideways_scroll(tab)
        shot(tab, f"first-hour-start-refused-{size}")


# ------------------------------------------------------------------------------ item 3: time
@pytest.mark.parametrize("size", VIEWPORTS)
def test_time_left_stays_in_view_and_in_the_tab_title(chromium, shared_server: LiveServer,
                                                      tmp_path: Path, size: str) -> None:
    expect = _expect()
    started = shared_server.start_session(tmp_path / "project", exam="quick", minutes=10)
    with browser_tab(chromium, shared_server, VIEWPORTS[size]) as tab:
        tab.goto(f"{shared_server.url}/sessions/{started['session']}")
        expect(tab.locator("#live")).to_have_text("live updates on")
        expect(tab.get_by_role("heading", level=1)).to_have_text(
            "Quick exam: two questions in 10 minutes")
        expect(tab.locator("#exam-length")).to_have_text("10 minutes")
        title = re.compile(r"^0:(09|10):\d\d left · Quick exam: two questions in 10 minutes$")
        expect(tab).to_have_title(title)
        first = tab.title()
        expect(tab).not_to_have_title(first, timeout=30_000)  # it follows the clock (a busy
        # machine may delay a tick, not stop it)
        expect(tab).to_have_title(title)

        assert tab.locator("#exam-bar").evaluate("bar => getComputedStyle(bar).position") == "sticky"
        scroll_to_bottom(tab)
        assert fully_in_view(tab, ".timer"), "the time left stays on screen"
        assert no_sideways_scroll(tab), "nothing wider than the screen"
        shot(tab, f"first-hour-exam-scrolled-{size}")
        tab.evaluate("window.scrollTo(0, 0)")
        shot(tab, f"first-hour-exam-top-{size}")


# ---------------------------------------------------- item 3: scores, Submit and Test; item 4
@pytest.mark.parametrize("size", VIEWPORTS)
def test_cards_answers_and_misplaced_models(chromium, shared_server: LiveServer, tmp_path: Path,
                                            size: str) -> None:
    from tests.support.models import line_model, save

    expect = _expect()
    project = tmp_path / "project"
    started = shared_server.start_session(project, minutes=20)
    with browser_tab(chromium, shared_server, VIEWPORTS[size]) as tab:
        tab.goto(f"{shared_server.url}/sessions/{started['session']}")
        expect(tab.locator("#live")).to_have_text("live updates on")
        q1 = tab.locator('.card[data-question="Q1"]')

        # A model that learned nothing scores 0: its card is red, never green.
        useless = line_model(trained=False)
        useless.layers[0].set_weights([useless.layers[0].get_weights()[0] * 0.0,
                                       useless.layers[0].get_weights()[1] + 1000.0])
        save(useless, project / "Q1" / "mymodel.h5")
        expect(q1.locator('[data-field="score"]')).to_have_text("0/5", timeout=60_000)
        assert border_colour(q1) == RED
        shot(tab, f"first-hour-card-zero-{size}")

        save(line_model(trained=True), project / "Q1" / "mymodel.h5")
        expect(q1.locator('[data-field="score"]')).to_have_text("5/5", timeout=60_000)
        assert border_colour(q1) == GREEN

        # Submit and Test on the same file: it says so, with the time of the save and the score,
        # and the keyboard focus stays on the button.
        # tfexam notes the save when it sees it, a moment after the file's own time.
        written = (project / "Q1" / "mymodel.h5").stat().st_mtime
        minutes = "|".join(sorted({time.strftime("%H:%M", time.localtime(written + lag))
                                   for lag in (0, 5)}))
        answer = re.compile(rf"^Already graded: same file as at ({minutes}), 5/5\.$")
        button = q1.get_by_role("button", name="Submit and Test Q1")
        button.focus()
        tab.keyboard.press("Enter")
        expect(q1.locator('[data-field="note"]')).to_have_text(answer)
        expect(button).to_be_focused()
        q1.locator('[data-field="note"]').evaluate("note => { note.textContent = ''; }")
        tab.keyboard.press("Enter")  # and again: it still answers
        expect(q1.locator('[data-field="note"]')).to_have_text(answer)
        expect(button).to_be_focused()
        shot(tab, f"first-hour-already-graded-{size}")

        # A model saved in the project root, and one in a sub-folder of a question.
        save(line_model(trained=True), project / "mymodel.h5")
        save(line_model(trained=True), project / "Q2" / "models" / "mymodel.h5")
        warning = tab.locator("#misplaced")
        expect(warning).to_be_visible(timeout=60_000)
        expect(warning).to_contain_text("mymodel.h5: the folder of the question it answers "
                                        "(Q1/ or Q2/)")
        expect(warning).to_contain_text("Q2/models/mymodel.h5: Q2/mymodel.h5")
        assert no_sideways_scroll(tab)
        scroll_to_bottom(tab)  # a taller page now, at either size: the time left stays on screen
        assert tab.evaluate("window.scrollY") > 0 and fully_in_view(tab, ".timer")
        shot(tab, f"first-hour-misplaced-bottom-{size}")
        warning.scroll_into_view_if_needed()
        shot(tab, f"first-hour-misplaced-{size}")
        status = httpx.get(f"{shared_server.url}/api/sessions/{started['session']}",
                           headers=shared_server.headers, timeout=30).json()
        assert {m["path"]: m["should_be"] for m in status["misplaced"]}["Q2/models/mymodel.h5"] \
            == "Q2/mymodel.h5"
        (project / "mymodel.h5").unlink()
        (project / "Q2" / "models" / "mymodel.h5").unlink()
        expect(warning).to_be_hidden(timeout=15_000)

        # The home page, now with past sessions in its table, fits the screen too.
        tab.goto(shared_server.url + "/")
        expect(tab.get_by_role("table")).to_be_visible()
        shot(tab, f"first-hour-home-with-sessions-{size}", full_page=True)
        assert no_sideways_scroll(tab), wider_than_the_screen(tab)


# ------------------------------------------------------------------ item 3: the service stops
def test_a_stopped_service_is_said_within_seconds_and_the_page_recovers(
        chromium, tmp_path: Path, keras_home: Path) -> None:
    from tests.support.models import save, slow_model

    expect = _expect()
    home = tmp_path / "home"
    server = LiveServer(home).start(wait_worker=True, timeout=180)
    try:
        started = server.start_session(tmp_path / "project", minutes=30)
        with browser_tab(chromium, server, VIEWPORTS["laptop"]) as tab:
            tab.goto(f"{server.url}/sessions/{started['session']}")
            expect(tab.locator("#live")).to_have_text("live updates on")
            q2 = tab.locator('.card[data-question="Q2"]')
            save(slow_model(), tmp_path / "project" / "Q2" / "mymodel.h5")
            expect(q2.locator('[data-field="state"]')).to_have_text("Grading", timeout=60_000)

            # Timed from the stop signal (SIGTERM to the service's process group, as Ctrl+C in
            # its terminal), not from its exit, which may take longer.
            stopping = time.monotonic()
            os.killpg(server.process.pid, signal.SIGTERM)
            banner = tab.locator("#service-down")
            expect(banner).to_be_visible(timeout=5_000)
            said = time.monotonic() - stopping
            print(f"the page said the service stopped {said:.1f} s after SIGTERM")
            assert said < 5.0
            server.stop()  # waits for the exit
            # Never a stale "Grading": paused, or whatever the service recorded as it stopped.
            expect(q2.locator('[data-field="state"]')).not_to_have_text("Grading")
            print("Q2 after the stop:", q2.locator('[data-field="state"]').text_content(), "|",
                  q2.locator('[data-field="message"]').text_content())
            expect(tab.locator("#live")).to_have_text("service not answering")
            for size, viewport in VIEWPORTS.items():
                tab.set_viewport_size(viewport)
                scroll_to_bottom(tab)
                assert fully_in_view(tab, "#service-down") and fully_in_view(tab, ".timer")
                assert no_sideways_scroll(tab)
                shot(tab, f"first-hour-service-stopped-{size}")

            server = LiveServer(home, port=server.port).start()
            expect(banner).to_be_hidden(timeout=20_000)
            expect(tab.locator("#live")).to_have_text("live updates on")
            expect(q2.locator('[data-field="state"]')).not_to_have_text("Paused: service stopped")
            print("Q2 after the restart:", q2.locator('[data-field="state"]').text_content(), "|",
                  q2.locator('[data-field="message"]').text_content())
            for size, viewport in VIEWPORTS.items():
                tab.set_viewport_size(viewport)
                shot(tab, f"first-hour-service-back-{size}")
    finally:
        server.stop()
