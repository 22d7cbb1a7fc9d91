"""The VS Code extension in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) with the built
.vsix installed, opened on a real exam project of a live tfexam service, driven by Playwright in
Debian's Chromium as a learner would: the status bar, the command palette, the TF Exam view and
its notifications are the workbench's own DOM.

code-server is installed once into a cache folder outside the repository by the extension's
install script (about a minute and a half, the first time only); the .vsix is built by `make vsix`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS, shot
from tests.support import models
from tests.support.full_disk import fill
from tests.support.live_server import ROOT, LiveServer, free_port
from tests.support.stranger import Stranger

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXTENSION = ROOT / "plugin_bridge" / "vscode"
INSTALL = EXTENSION / "scripts" / "install-code-server.sh"
TIME_LEFT = re.compile(r"(\d+):(\d\d):(\d\d) left")
WINDOW = {"width": 1280, "height": 720}


def _seconds(text: str) -> int:
    h, m, s = (int(x) for x in TIME_LEFT.search(text).groups())  # type: ignore[union-attr]
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def code_server() -> Path:
    if shutil.which("npm") is None or not Path(CHROMIUM).exists():
        pytest.skip("needs Node's npm and Debian's chromium (.ci/run installs both)")
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    binary = Path(done.stdout.strip().splitlines()[-1])
    built = subprocess.run(["make", "vsix"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return binary


@pytest.fixture(params=["native", "container"])
def tfexam_service(request: pytest.FixtureRequest, tmp_path: Path
                   ) -> Iterator[tuple[LiveServer, Path, bool]]:
    """The service (not started yet), the folder its exam projects go in, and whether the test
    may fill its home: on this machine, or in its container image (`make container-test` names
    the image in TFEXAM_CONTAINER_IMAGE; tests/docker/ builds and proves it) with that folder
    bind-mounted at the same path. The extension finds either through the project's
    session.json. Only the native home is filled (its state is on a volume in the container)."""
    if request.param == "native":
        # The service's home on a small file system of its own where it can be mounted (root),
        # so that the test can fill it (a full disk, issue 17).
        home = tmp_path / "home"
        mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", str(_mkdir(home))],
            capture_output=True).returncode == 0
        service = LiveServer(home)
        try:
            yield service, tmp_path, mounted
        finally:
            service.stop()
            if mounted:
                subprocess.run(["umount", "-l", str(home)], check=False)
        return
    image = os.environ.get("TFEXAM_CONTAINER_IMAGE")
    if not image:
        pytest.skip("the container's run is in `make container-test` (it builds the image)")
    from tests.support.container_service import container_service

    with container_service(image, tmp_path / "projects") as service:
        yield service, service.projects, False


@pytest.fixture
def workbench(code_server: Path, tfexam_service: tuple[LiveServer, Path, bool], tmp_path: Path,
              keras_home: Path) -> Iterator[dict]:
    """A live tfexam service with a running session, and code-server open on its project. The
    grading worker, and the Keras models the test saves, get ready while code-server starts."""
    made = tmp_path / "models"
    maker = threading.Thread(target=lambda: (
        models.save(models.line_model(), made / "line.h5"),
        models.save(models.blobs_model(), made / "blobs.h5")))
    maker.start()
    service, projects, mounted = tfexam_service
    service.start()
    project = projects / "exam"
    service.start_session(project, minutes=20)
    user, extensions = tmp_path / "vscode-user", tmp_path / "vscode-extensions"
    (user / "User").mkdir(parents=True)
    (user / "User" / "settings.json").write_text(json.dumps({
        "workbench.startupEditor": "none", "security.workspace.trust.enabled": False,
        "extensions.ignoreRecommendations": True, "workbench.tips.enabled": False,
        "telemetry.telemetryLevel": "off", "update.mode": "none",
    }))
    common = [str(code_server), "--user-data-dir", str(user), "--extensions-dir", str(extensions)]
    installed = subprocess.run([*common, "--install-extension", str(EXTENSION / "tfexam.vsix")],
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    port = free_port()
    log = open(tmp_path / "code-server.log", "wb")  # noqa: SIM115 - handed to the child
    editor = subprocess.Popen(
        [*common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry",
         "--disable-update-check", "--disable-workspace-trust", str(project)],
        stdout=log, stderr=log, start_new_session=True,
        env={**os.environ, "PASSWORD": "", "SHELL": "/bin/sh"})
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        maker.join(timeout=180)
        yield {"service": service, "project": project, "url": f"{url}/?folder={project}",
               "models": made, "home_fills": mounted}
    finally:
        os.killpg(editor.pid, signal.SIGTERM)
        try:
            editor.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(editor.pid, signal.SIGKILL)
            editor.wait(timeout=10)
        service.stop()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(model: Path, target: Path) -> None:
    """Saves a Keras file made earlier by real Keras the way an editor saves: whole, at once."""
    models.place(model, target, ".saving-" + target.name)


def _command(page, title: str) -> None:
    """F1, the command's title, Enter: the command palette as a learner uses it."""
    page.keyboard.press("F1")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible")
    box.fill(f">{title}")
    page.locator(".quick-input-list .monaco-list-row", has_text=title).first.wait_for()
    page.keyboard.press("Enter")


def test_the_extension_follows_a_live_exam(workbench: dict) -> None:
    from playwright.sync_api import sync_playwright

    service: LiveServer = workbench["service"]
    project: Path = workbench["project"]
    session = json.loads((project / ".tfexam" / "session.json").read_text())["session"]
    began = time.monotonic()
    steps: list[str] = []

    def step(name: str) -> None:
        steps.append(f"{name} {time.monotonic() - began:.1f} s")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=WINDOW).new_page()
        page.set_default_timeout(60_000)
        page.goto(workbench["url"])

        # 1. The status bar's time left agrees with the API's (within 2 s).
        timer = page.locator(".statusbar-item", has_text=TIME_LEFT).first
        timer.wait_for()
        # A starved renderer may show a tick late for a moment; agreeing means it catches up.
        agrees_by = time.monotonic() + 30
        while True:
            shown = _seconds(timer.inner_text())
            remaining = service.get(f"/api/sessions/{session}")["remaining_seconds"]
            if abs(shown - remaining) <= 2 or time.monotonic() > agrees_by:
                break
            time.sleep(0.5)
        assert abs(shown - remaining) <= 2, (shown, remaining)
        # And it ticks by itself (every second; a busy machine may delay a tick, not stop it).
        ticks_by = time.monotonic() + 30
        while _seconds(timer.inner_text()) >= shown:
            assert time.monotonic() < ticks_by, "the status bar's time left never moved"
            time.sleep(0.25)
        # 20 minutes left: the exam page's amber (its warning from 30 minutes on).
        classes = timer.get_attribute("class") or ""
        assert "warning-kind" in classes and "error-kind" not in classes, classes

        step("timer")
        # 2. A grade triggered by saving a model appears in the view without any action.
        timer.click()  # the status bar item opens the TF Exam view
        page.locator(".monaco-list-row", has_text=re.compile(r"Q1\s+–")).wait_for()
        save(workbench["models"] / "line.h5", project / "Q1" / "mymodel.h5")
        page.locator(".monaco-list-row", has_text=re.compile(r"Q1\s+5/5")).wait_for()
        assert service.question(service.get(f"/api/sessions/{session}"), "Q1")["score"] == 5
        page.locator(".notification-toast", has_text="Q1: 5/5").first.wait_for()

        step("grade in view")
        # 3. Submit and Test from the command palette shows the score the API reports: first
        #    picking the category, then for the category of the open file.
        _command(page, "Notifications: Clear All Notifications")
        _command(page, "TF Exam: Submit and Test")
        page.locator(".quick-input-widget input").fill("Q1")
        page.locator(".quick-input-list .monaco-list-row", has_text="Q1").first.wait_for()
        page.keyboard.press("Enter")
        page.locator(".notification-toast", has_text="Submit and Test Q1: 5/5").first.wait_for()

        save(workbench["models"] / "blobs.h5", project / "Q2" / "mymodel.h5")
        service.wait_for(session, lambda s: service.question(s, "Q2")["state"] == "graded")
        _command(page, "Notifications: Clear All Notifications")
        page.locator(".monaco-list-row", has_text=re.compile(r"Q2\s+\d/5")).click()  # opens its question
        page.locator(".tab", has_text="question.md").wait_for()
        _command(page, "TF Exam: Submit and Test")
        answer = re.compile(r"Submit and Test Q2: (\d)/5")
        toast = page.locator(".notification-toast", has_text=answer).first
        toast.wait_for()
        shown_score = int(answer.search(toast.inner_text()).group(1))  # type: ignore[union-attr]
        api_score = service.question(service.get(f"/api/sessions/{session}"), "Q2")["score"]
        assert shown_score == api_score
        page.locator(".monaco-list-row", has_text=re.compile(rf"Q2\s+{api_score}/5")).wait_for()
        shot(page, "vscode-extension")

        step("submit and test")

        # A model saved where nothing grades it is pointed out in the view.
        save(workbench["models"] / "line.h5", project / "mymodel.h5")
        page.locator(".monaco-list-row", has_text="mymodel.h5 is not graded there").wait_for()
        step("misplaced")
        # 4. The service stops: said plainly; it comes back: the extension recovers by itself.
        service.stop()
        page.locator(".statusbar-item", has_text="service not running").wait_for(timeout=20_000)
        shot(page, "vscode-extension-service-down")
        # 5. Another user's program takes the port meanwhile and answers like tfexam: the
        #    extension keeps asking it to prove itself, and never sends it the token.
        stranger = Stranger().start(service.port)
        try:
            deadline = time.monotonic() + 30
            while (stranger.received().count(b"GET /api/hello?nonce=") < 3
                   and time.monotonic() < deadline):
                time.sleep(0.5)
            page.locator(".statusbar-item", has_text="service not running").wait_for()
        finally:
            stranger.stop()
        received = stranger.received()
        stranger.remove()
        assert received.count(b"GET /api/hello?nonce=") >= 3, received[:2000]
        assert service.token and service.token.encode() not in received
        assert b"authorization" not in received.lower()
        step("a stranger on the port")
        service.start(timeout=60)
        page.locator(".statusbar-item", has_text=TIME_LEFT).first.wait_for(timeout=30_000)
        step("down and back")
        if workbench["home_fills"]:
            # 5. tfexam's home is full: the save that could not be recorded is named in the view
            #    and on the status bar until there is room and it is recorded (issue 17).
            filler = fill(service.home, 4096)
            save(workbench["models"] / "line.h5", project / "Q2" / "mymodel.h5")
            page.locator(".monaco-list-row", has_text="Q2: save NOT recorded").wait_for()
            page.locator(".statusbar-item", has_text="Q2 save NOT recorded").wait_for()
            shot(page, "vscode-extension-save-not-recorded")
            filler.unlink()
            service.wait_for(session, lambda s: not s["unrecorded_saves"], timeout=60)
            page.locator(".monaco-list-row", has_text="save NOT recorded").wait_for(
                state="detached")
            page.locator(".statusbar-item", has_text="save NOT recorded").wait_for(
                state="detached")
            step("full disk")
        browser.close()
    print("code-server drive:", "; ".join(steps))


def test_the_extension_warns_as_the_exam_page_does(code_server: Path) -> None:
    """The thresholds and the clock text of the built extension (out/clock.js), run by Node."""
    script = (
        "const c = require(process.argv[1]);"
        "console.log(JSON.stringify([c.urgency(1801), c.urgency(1800), c.urgency(601),"
        " c.urgency(600), c.urgency(0), c.clockText(11525.9), c.clockText(-3), c.NOTICE_SECONDS]));"
    )
    done = subprocess.run(["node", "-e", script, str(EXTENSION / "out" / "clock.js")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["normal", "warning", "warning", "urgent", "urgent",
                                       "3:12:05", "0:00:00", 300]
