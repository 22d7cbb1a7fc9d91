"""Past the system's inotify watch limit, file-system events stop without a word: a project folder
that cannot be watched at all, or one whose question folders got no watch of their own (watchdog
skips them silently). tfexam then finds saves by looking at the model files every few seconds:
they are still graded, a missing folder and its return are still reported, and health says which
folders are only polled (issue 11: the service goes on, and so does the exam).

The service runs in a user namespace of its own with a tiny inotify watch limit, so watching
fails for real without touching the machine's own limit."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import LiveServer, settled_question


def _limited_to(watches: int) -> list[str]:
    return ["unshare", "--user", "--map-root-user", "sh", "-c",
            f'echo {watches} > /proc/sys/user/max_inotify_watches && exec "$@"', "sh"]


def _limits_can_be_lowered() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run([*_limited_to(0), "true"], capture_output=True,
                          check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _limits_can_be_lowered(), reason=(
    "this kernel gives no user namespace whose inotify limit can be set"))


def _project_kinds(live: LiveServer, session: str) -> list[str]:
    with sqlite3.connect(f"file:{live.home / 'tfexam.sqlite3'}?mode=ro", uri=True) as db:
        return [k for (k,) in db.execute(
            "SELECT kind FROM events WHERE session_id = ? AND kind LIKE 'project.%' ORDER BY id",
            (session,))]


@pytest.mark.parametrize("watches", [0, 1], ids=["no-watch-at-all", "root-folder-only"])
def test_saves_are_found_without_file_system_events(tmp_path: Path, keras_home: Path,
                                                     watches: int) -> None:
    live = LiveServer(tmp_path / "home", wrapper=_limited_to(watches)).start(wait_worker=True,
                                                                           timeout=180)
    try:
        started = live.start_session(tmp_path / "ws", minutes=30)
        session, project = started["session"], Path(started["project_dir"])
        health = live.get("/api/health")
        if watches == 0:  # said in health; with one watch, watchdog's own silence is the case
            assert session in health["watcher"]["polled_projects"]
            assert session not in health["watching"]
            assert health["watcher"]["state"] == "degraded"
            assert "cannot watch the project folders of" in health["watcher"]["error"]

        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        assert settled_question(live, session, "Q1", 1, timeout=180)["score"] == 5

        aside = tmp_path / "aside"
        project.rename(aside)
        live.wait_for_health(lambda h: session in h["watcher"]["missing_projects"], timeout=30)
        assert live.get(f"/api/sessions/{session}")["project"] == "missing"
        aside.rename(project)
        live.wait_for_health(lambda h: session not in h["watcher"]["missing_projects"],
                             timeout=30)
        assert _project_kinds(live, session) == ["project.missing", "project.back"]

        (project / "Q1" / "mymodel.h5").unlink()
        models.save(models.line_model(trained=False), project / "Q1" / "mymodel.h5")
        q1 = settled_question(live, session, "Q1", 2)
        assert q1["state"] == "graded" and q1["score"] < 5
    finally:
        live.stop()
