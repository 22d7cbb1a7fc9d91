"""Every control has an accessible name, focus is visible and follows the page's order, and one
whole flow (start, time warning, the Finish dialog, the report) works from the keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages.conftest import shot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

CONTROLS = {"button", "textbox", "spinbutton", "radio", "checkbox", "combobox", "link", "slider",
            "searchbox", "menuitem", "tab"}


def unnamed_controls(page) -> list[str]:
    """Chromium's own accessibility tree (what a screen reader gets), not a guess from the DOM."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    missing = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        if node.get("ignored") or role not in CONTROLS:
            continue
        if not str((node.get("name") or {}).get("value") or "").strip():
            missing.append(f"{role} (backend node {node.get('backendDOMNodeId')})")
    return missing


def focused(page) -> str:
    return page.evaluate("""() => {
        const el = document.activeElement;
        return el.id || el.getAttribute("aria-label") || el.textContent.trim();
    }""")


def focus_is_visible(page) -> bool:
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    }""")


def tab_to(page, target: str, limit: int = 40) -> list[str]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1] == target:
            return seen
    raise AssertionError(f"{target!r} never got the focus; the order was {seen}")


def back_to(page, target: str, limit: int = 10) -> None:
    for _ in range(limit):
        if focused(page) == target:
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{target!r} is not before {focused(page)!r} in the focus order")


def test_every_control_is_named_and_one_flow_works_from_the_keyboard(
        shared_server: LiveServer, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    page.goto(shared_server.url + "/")
    assert unnamed_controls(page) == []

    # Logical order: skip link, navigation, the exam (one stop for the group, then the "which
    # data is missing" disclosures of exams that lack data here), the folder, the length, the
    # Keras mode, Start.
    order = tab_to(page, "start-button")
    assert order[0] == "Skip to the content"
    radios = [name for name in order if name.startswith("exam-")]
    assert len(radios) == 1, order
    after_radio = order[order.index(radios[0]) + 1:]
    disclosures = [name for name in after_radio if name.startswith("Which data is missing")]
    assert after_radio == [*disclosures, "workspace", "minutes", "keras", "start-button"]
    assert focus_is_visible(page)

    # Choose the smoke exam with the arrow keys, as in any radio group.
    back_to(page, radios[0])
    for _ in range(10):
        if focused(page) == "exam-smoke":
            break
        page.keyboard.press("ArrowDown")
    assert focused(page) == "exam-smoke" and page.is_checked("#exam-smoke")
    tab_to(page, "start-button")
    back_to(page, "workspace")
    assert focused(page) == "workspace" and focus_is_visible(page)
    page.keyboard.press("Control+A")
    page.keyboard.type(str(tmp_path / "project"))
    page.keyboard.press("Tab")
    page.keyboard.type("5.05")  # just over five minutes: the five-minute warning comes at once
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f]+$"))

    warning = page.get_by_role("alert").filter(has_text="5 minutes left")
    expect(warning).to_be_visible(timeout=15_000)
    assert unnamed_controls(page) == []

    tab_to(page, "finish-open")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Finish the exam?")
    expect(dialog).to_be_visible()
    assert focused(page) == "finish-cancel"
    page.keyboard.press("Tab")
    assert focused(page) == "finish-confirm" and focus_is_visible(page)
    page.keyboard.press("Tab")
    assert focused(page) == "finish-cancel", "focus must stay inside the dialog"
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "finish-confirm"
    shot(page, "finish-dialog-keyboard")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page) == "finish-open", "focus returns to the button that opened the dialog"
    shot(page, "exam-warning")

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/report$"))
    expect(page.get_by_test_id("verdict")).to_have_text("NOT PASSED")
    assert unnamed_controls(page) == []
    page.goto(shared_server.url + "/history")
    assert unnamed_controls(page) == []


def test_a_refused_start_shows_the_api_sentence(shared_server: LiveServer, page,
                                                 tmp_path: Path) -> None:
    from playwright.sync_api import expect

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    page.goto(shared_server.url + "/")
    page.get_by_label("Project folder").fill(str(busy))
    page.get_by_role("button", name="Start exam").click()
    expect(page.get_by_role("alert")).to_contain_text("not empty")
    expect(page.get_by_label("Project folder")).to_be_focused()
    expect(page.get_by_label("Project folder")).to_have_attribute("aria-invalid", "true")
    shot(page, "home-error")
