"""The whole exam in a real browser: start from the home page, live grading of a saved model,
Submit and Test, Finish behind its dialog, the report with its plots, the download, the history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages.conftest import ARTIFACTS, shot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    return expect


def test_exam_from_the_home_page_to_the_report(shared_server: LiveServer, page, tmp_path: Path):
    from tests.support.models import blobs_model, line_model, save

    expect = _expect()
    workspace = tmp_path / "project"
    page.goto(shared_server.url + "/")
    expect(page.get_by_role("heading", name="Start an exam")).to_be_visible()
    shot(page, "home")

    page.locator("#exam-smoke").check()
    page.get_by_label("Project folder").fill(str(workspace))
    page.get_by_label("Practice length in minutes (optional)").fill("20")
    page.get_by_role("button", name="Start exam").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f]+$"))
    expect(page.locator("#live")).to_have_text("live updates on")
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"0:(19|20):\d\d"))

    # Submit and Test before any model exists: the API's sentence, on the card.
    q1 = page.locator('.card[data-question="Q1"]')
    q2 = page.locator('.card[data-question="Q2"]')
    q2.get_by_role("button", name="Submit and Test Q2").click()
    expect(q2.get_by_role("alert")).to_contain_text("There is no model in")

    # A model saved from "the IDE" is graded and shown without a reload.
    page.evaluate("window.noReloadMarker = true")
    save(line_model(trained=True), workspace / "Q1" / "mymodel.h5")
    expect(q1.locator('[data-field="score"]')).to_have_text("5/5", timeout=60_000)
    expect(q1.locator('[data-field="state"]')).to_have_text("Graded")
    assert page.evaluate("window.noReloadMarker") is True

    # Submit and Test grades the current file at once.
    save(blobs_model(), workspace / "Q2" / "mymodel.h5")
    q2.get_by_role("button", name="Submit and Test Q2").click()
    expect(q2.locator('[data-field="state"]')).to_have_text("Graded", timeout=60_000)
    expect(q2.locator('[data-field="score"]')).to_have_text(re.compile(r"^[0-5]/5$"))
    expect(q2.locator('[data-field="error"]')).to_have_text("")
    shot(page, "exam")
    spinner_shown = q1.evaluate("""card => { card.dataset.state = "grading";
        return getComputedStyle(card.querySelector(".spinner")).display; }""")
    assert spinner_shown != "none"
    q1.evaluate("card => { card.dataset.state = 'graded'; }")

    # Finish behind a real dialog, then the report.
    page.get_by_role("button", name="Finish exam").click()
    dialog = page.get_by_role("dialog", name="Finish the exam?")
    expect(dialog).to_be_visible()
    shot(page, "finish-dialog")
    dialog.get_by_role("button", name="Finish exam now").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f]+/report$"))
    expect(page.get_by_test_id("verdict")).to_have_text(re.compile(r"^(NOT PASSED|PASSED|GRADING…)$"))
    expect(page.get_by_test_id("verdict")).to_have_text(re.compile(r"PASSED$"), timeout=30_000)
    for plot in ("plot-history-Q1", "plot-diagnostics-Q1", "plot-history-Q2", "plot-diagnostics-Q2"):
        expect(page.get_by_test_id(plot).locator("svg")).to_be_visible()
    expect(page.get_by_test_id("model-Q1")).to_contain_text("mymodel.h5")
    shot(page, "report", full_page=True)
    shot(page, "report-top")
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Download as one HTML file")).to_be_hidden()
    shot(page, "report-print", full_page=True)
    # The browser's own "save as PDF", as the learner would print it.
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")

    # The download is one file that references nothing outside itself.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as one HTML file").click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".html")
    assert "<svg" in saved and "@media print" in saved
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", saved)

    page.get_by_role("link", name="History").first.click()
    expect(page.get_by_test_id("trend").locator("svg")).to_be_visible()
    shot(page, "history")


def test_the_deadline_moves_the_exam_page_to_the_report(shared_server: LiveServer, page,
                                                        tmp_path: Path) -> None:
    expect = _expect()
    started = shared_server.start_session(tmp_path / "project", minutes=0.1)
    page.goto(f"{shared_server.url}/sessions/{started['session']}")
    expect(page.get_by_role("timer")).to_be_visible()
    page.wait_for_url(re.compile(r"/report$"), timeout=30_000)
    expect(page.get_by_test_id("verdict")).to_have_text("NOT PASSED")
    expect(page.locator(".meta")).to_contain_text("submitted by the clock")
