"""A full disk and a read-only home, made real with small tmpfs mounts: one sentence each, no
partial state, no leaked snapshot folder, and the service carries on once there is room again."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import models
from tests.support.full_disk import fill
from tests.support.live_server import ROOT, LiveServer, free_port
from tests.support.timing import spent

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                              str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def everything(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")


def test_a_full_disk_when_starting_leaves_nothing_behind(tmp_path: Path, keras_home: Path,
                                                         root_only: None) -> None:
    live = LiveServer(tmp_path / "home").start()
    try:
        with tmpfs(tmp_path / "disk", "1m") as disk:
            filler = fill(disk, 24 * 1024)
            before = everything(disk)
            refused = live.post("/api/sessions", {"exam": "smoke",
                                                  "workspace": str(disk / "ws")})
            assert refused.status_code == 507, refused.text
            detail = refused.json()["detail"]
            assert "nothing was left behind" in detail and "\n" not in detail
            assert everything(disk) == before  # no project folder, no partial folder
            assert live.get("/api/sessions") == []
            sessions = live.home / "sessions"
            assert not sessions.exists() or list(sessions.iterdir()) == []  # no orphan held-out
            filler.unlink()
            started = live.start_session(disk / "ws", minutes=10)  # room again: it works
            assert Path(started["project_dir"], "Q1", "starter.py").is_file()
    finally:
        live.stop()


def test_a_full_home_is_reported_retried_and_leaks_no_snapshot(tmp_path: Path, keras_home: Path,
                                                                 root_only: None) -> None:
    line = models.line_model()
    with tmpfs(tmp_path / "home", "8m") as home:
        live = LiveServer(home).start(wait_worker=True, timeout=180)
        try:
            started = live.start_session(tmp_path / "ws", minutes=30)
            session, project = started["session"], Path(started["project_dir"])
            filler = fill(home, 4 * 1024)
            models.save(line, project / "Q1" / "mymodel.h5")
            health = live.wait_for_health(lambda h: h["watcher"]["state"] == "degraded",
                                          timeout=30)
            error = (health["watcher"]["error"] or "").lower()
            assert "no space" in error or "disk is full" in error, error
            snapshots = home / "sessions" / session / "snapshots"
            assert not snapshots.exists() or list(snapshots.iterdir()) == []  # nothing leaked
            refused = live.post("/api/sessions", {"exam": "smoke",
                                                  "workspace": str(tmp_path / "ws2")})
            assert refused.status_code in (503, 507) and "\n" not in refused.json()["detail"]
            assert not (tmp_path / "ws2").exists()
            filler.unlink()
            status = live.wait_for(session, lambda s: live.question(s, "Q1")["score"] is not None,
                                   timeout=120)
            assert live.question(status, "Q1")["score"] == 5  # retried once there was room
            assert len(list(snapshots.iterdir())) == 1
            live.wait_for_health(lambda h: h["status"] == "ok", timeout=15)
        finally:
            live.stop()


def test_read_only_places_are_one_sentence(tmp_path: Path, keras_home: Path,
                                           root_only: None) -> None:
    with tmpfs(tmp_path / "home", "8m") as home, tmpfs(tmp_path / "disk", "1m") as disk:
        live = LiveServer(home).start()
        try:
            remount(disk, "ro")  # the learner chose a folder on a read-only disk
            refused = live.post("/api/sessions", {"exam": "smoke",
                                                  "workspace": str(disk / "ws")})
            assert refused.status_code in (409, 507), refused.text
            assert "\n" not in refused.json()["detail"]
            assert live.get("/api/sessions") == []
            assert live.get("/api/health")["status"] == "ok"
            live.stop()
            remount(home, "ro")  # and now tfexam's own home is read-only
            served = subprocess.run(
                [sys.executable, "-m", "server", "serve", "--port", str(free_port()), "--home",
                 str(home), "--no-browser"], cwd=ROOT, capture_output=True, text=True,
                timeout=60)
            assert served.returncode == 1
            assert served.stderr.startswith("tfexam: the home folder"), served.stderr
            assert served.stderr.count("\n") == 1, served.stderr
        finally:
            live.stop()


@contextlib.contextmanager
def _exam_page(live: LiveServer, session: str) -> Iterator[Any]:
    """The exam page in Debian's Chromium, as the learner has it open."""
    from playwright.sync_api import sync_playwright

    from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    with sync_playwright() as playwright:
        with spent("browser-start"):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies([live.cookie()])
            page = context.new_page()
            page.goto(f"{live.url}/sessions/{session}")
            yield page
        finally:
            browser.close()


def _cli(live: LiveServer, *args: str) -> str:
    env = {**os.environ, "TFEXAM_HOME": str(live.home)}
    env.pop("TFEXAM_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url", live.url, *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_save_a_full_disk_kept_out_is_named_until_taken_even_past_the_deadline(
        tmp_path: Path, keras_home: Path, root_only: None) -> None:
    """Issue 17: the newest save that a full home could not record is named on the card, in
    status, `tfexam time` and the exam page until it is recorded; the disk stays full past the
    deadline, and once there is room the file is taken as saved when it was observed, and
    counts."""
    line = models.line_model()
    with tmpfs(tmp_path / "home", "8m") as home:
        live = LiveServer(home).start(wait_worker=True, timeout=180)
        try:
            started = live.start_session(tmp_path / "ws", minutes=1)
            session, project = started["session"], Path(started["project_dir"])
            with _exam_page(live, session) as page:  # open before: the page learns it live
                filler = fill(home, 4 * 1024)
                models.save(line, project / "Q1" / "mymodel.h5")
                status = live.wait_for(session, lambda s: live.question(s, "Q1")["unrecorded"],
                                       timeout=30)
                banner = page.locator("#unrecorded")
                banner.wait_for(state="visible", timeout=30_000)
                assert "Q1's save of mymodel.h5" in banner.inner_text()
                card = page.locator('.card[data-question="Q1"] [data-field="message"]')
                assert "could not be recorded" in card.inner_text()
            q1 = live.question(status, "Q1")
            assert q1["message"].startswith("Q1's save of mymodel.h5 at "), q1
            assert "could not be recorded" in q1["message"] and "\n" not in q1["message"]
            assert [u["question"] for u in status["unrecorded_saves"]] == ["Q1"]
            observed = q1["unrecorded"]["observed_at"]
            assert observed < started["deadline"]
            assert "Q1 SAVE NOT RECORDED" in _cli(live, "time", "--session", session)
            assert "NOT RECORDED: Q1's save of mymodel.h5" in _cli(live, "status", "--session",
                                                                   session)
            cookie = live.cookie()
            page = httpx.get(f"{live.url}/sessions/{session}",
                             cookies={cookie["name"]: cookie["value"]}, timeout=30).text
            banner = page.split('id="unrecorded"', 1)[1].split("</div>", 1)[0]
            assert "hidden" not in banner.split(">", 1)[0] and "Q1&#39;s save of" in banner

            # Still full past the deadline (the record cannot even be marked submitted yet):
            # the save is still named, with when it was observed, and there is no verdict.
            status = live.wait_for(session, lambda s: s["server_time"] > started["deadline"],
                                   timeout=120)
            assert live.question(status, "Q1")["unrecorded"]["observed_at"] == observed
            assert status["passed"] is None and status["grading_pending"]
            assert status["remaining_seconds"] == 0

            filler.unlink()  # room again: taken as saved when it was observed, and it counts
            status = live.wait_for(session, lambda s: s["state"] == "submitted" and live.question(
                s, "Q1")["score"] is not None and not s["grading_pending"], timeout=120)
            assert status["submitted_at"] == started["deadline"]
            q1 = live.question(status, "Q1")
            assert q1["score"] == 5 and q1["unrecorded"] is None, q1
            assert status["unrecorded_saves"] == []
            history = live.get(f"/api/sessions/{session}/report")["questions"][0]["history"]
            assert history[-1]["saved_at"] == observed and history[-1]["counted_in_time"], history
        finally:
            live.stop()
