"""The exam page says at once when the project folder goes missing, and stops saying it when the
folder is back (issue 11: the service goes on, and so does the exam)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_the_page_shows_a_missing_project_folder(shared_server: LiveServer, page,
                                                  tmp_path: Path) -> None:
    from playwright.sync_api import expect

    started = shared_server.start_session(tmp_path / "ws", minutes=20)
    project = Path(started["project_dir"])
    page.goto(f"{shared_server.url}/sessions/{started['session']}")
    banner = page.locator("#project-missing")
    expect(page.locator("#live")).to_have_text("live updates on", timeout=20_000)
    expect(banner).to_be_hidden()
    project.rename(tmp_path / "aside")
    expect(banner).to_be_visible(timeout=5_000)  # an event, not the 5 s refresh
    expect(banner).to_contain_text(f"The project folder {project} is missing")
    (tmp_path / "aside").rename(project)
    expect(banner).to_be_hidden(timeout=5_000)
