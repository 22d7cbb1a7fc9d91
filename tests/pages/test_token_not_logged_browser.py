"""No log line holds the token: a whole exam with the access log on (the service's `info` level),
driven as a learner drives it: the browser enters by the one-time address `serve` printed, the
CLI starts, asks, submits, opens the page (another one-time address) and finishes, the page
follows the grades live and shows the report. Then the service's log, access log included, is
searched for the token; and the addresses the browser saw never held it either."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import models
from tests.support.live_server import ROOT, LiveServer

pytestmark = pytest.mark.browser


def test_a_whole_exam_leaves_the_token_in_no_log_line(tmp_path: Path, keras_home: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    service = LiveServer(tmp_path / "home", serve_args=["--log-level", "info"]).start()
    token = service.token
    assert token
    opened = tmp_path / "opened.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("TFEXAM_URL", "TFEXAM_TOKEN")}
    env.update(PYTHONPATH=str(ROOT), TFEXAM_HOME=str(service.home),
               XDG_CACHE_HOME=str(tmp_path / "cache"),
               BROWSER=f"{sys.executable} -c \"open({str(opened)!r}, 'w')"
                       ".write(__import__('sys').argv[1])\" %s")

    def tfexam(*args: str, cwd: Path = ROOT) -> str:
        done = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url", service.url,
                               *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout + done.stderr

    seen_addresses: list[str] = []
    project = tmp_path / "exam"
    try:
        printed = re.search(r"tfexam: ready: open (\S+\?code=\S+) ", service.log_path.read_text())
        assert printed, service.log_path.read_text()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context().new_page()
            page.set_default_timeout(30_000)
            page.on("request", lambda request: seen_addresses.append(request.url))
            page.goto(printed.group(1))  # the address `serve` printed, typed in
            page.wait_for_url(service.url + "/")
            expect(page.get_by_role("heading", name="Start an exam")).to_be_visible()

            said = tfexam("start", "smoke", "--workspace", str(project), "--minutes", "20")
            session = re.search(r"^session (\w+)$", said, re.M).group(1)  # type: ignore[union-attr]
            tfexam("open", cwd=project)
            page.goto(opened.read_text())  # the private file `tfexam open` handed over
            page.wait_for_url(f"{service.url}/sessions/{session}")
            expect(page.locator("#live")).to_have_text("live updates on")
            models.save(models.line_model(), project / "Q1" / "mymodel.h5")
            card = page.locator('.card[data-question="Q1"] [data-field="score"]')
            expect(card).to_have_text("5/5", timeout=120_000)
            for args in (["time"], ["status"], ["submit", "Q1", "--wait"]):
                tfexam(*args, cwd=project)
            tfexam("finish", "--yes", cwd=project)
            # The exam page goes to the report by itself (a goto of the test's own could be
            # aborted by that navigation).
            page.wait_for_url(f"{service.url}/sessions/{session}/report", timeout=60_000)
            expect(page.get_by_text("Report as JSON")).to_be_visible()
            tfexam("report", cwd=project)
            browser.close()
    finally:
        service.stop()
    log = service.log_path.read_text()
    assert token not in log, "the token is in the service's log"
    assert "token=" not in log
    assert not [url for url in seen_addresses if token in url or "token=" in url]
    assert re.search(rf'"GET /sessions/{session} HTTP/1\.1" 200', log), "the access log was on"
    assert re.search(rf'"GET /api/sessions/{session}/events\S* HTTP/1\.1" 200', log), log[-3000:]
    assert re.search(r'"POST /api/sessions/\w+/questions/Q1/submit HTTP/1\.1"', log)
