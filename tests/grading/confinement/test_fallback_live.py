"""The fallback path through a real service (TFEXAM_SANDBOX=landlock forces it, as a kernel that
refuses user namespaces would): never silently unsandboxed, and still no escape; and tfexam's own
failures, retried and then stored with a status of their own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import attacks, models
from tests.support.live_server import LiveServer, settled_question

pytestmark = pytest.mark.slow
WARNING = "model files are not isolated on this machine: "


@pytest.fixture(scope="module")
def fallback_server(tmp_path_factory, keras_home):
    from server.grading.confinement import landlock

    if landlock.abi_version() < 1:
        pytest.skip("no Landlock in this kernel")
    live = LiveServer(tmp_path_factory.mktemp("fallback"), env={"TFEXAM_SANDBOX": "landlock"})
    live.start(wait_worker=True, timeout=180)
    yield live
    live.stop()


def test_the_fallback_says_so_everywhere_and_still_holds(fallback_server: LiveServer,
                                                          tmp_path: Path) -> None:
    import httpx

    health = fallback_server.get("/api/health")
    assert health["isolation"]["sandboxed"] is False
    assert health["isolation"]["warning"].startswith(WARNING)
    assert "Landlock" in health["isolation"]["how"]
    assert "a hostile model can still " in health["isolation"]["warning"]
    # How memory is limited, said in health: the kernel's (and which cgroup), or sampled and why.
    assert health["isolation"]["memory"].startswith(("limited by the kernel (cgroup",
                                                     "watched by tfexam (sampled")), health
    assert WARNING in (fallback_server.home / "server.log").read_text()  # said at start-up

    started = fallback_server.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    status = fallback_server.get(f"/api/sessions/{session}")
    assert status["isolation"]["sandboxed"] is False
    page = httpx.get(f"{fallback_server.url}/sessions/{session}", headers=fallback_server.headers,
                     cookies={"tfexam_token": fallback_server.cookie()["value"]}, timeout=30)
    assert page.status_code == 200 and WARNING in page.text  # the exam page's banner

    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    q1 = settled_question(fallback_server, session, "Q1", 1)
    assert q1["state"] == "graded" and q1["score"] == 5
    result = _latest_result(fallback_server, session, "Q1")
    assert any(m.startswith(WARNING) for m in result["messages"]), result["messages"]

    outside = tmp_path / "outside"
    outside.mkdir()
    writer = attacks.writer([str(outside / "planted.txt"), str(fallback_server.home / "x.txt")],
                            tmp_path / "writer")
    shutil.copytree(writer, project / "Q2" / "mymodel")
    q2 = settled_question(fallback_server, session, "Q2", 1)
    assert q2["state"] == "error" and "PermissionDeniedError" in q2["message"], q2
    assert not (outside / "planted.txt").exists() and not (fallback_server.home / "x.txt").exists()


def test_tfexam_failures_are_retried_then_stored_as_such(fallback_server: LiveServer,
                                                         tmp_path: Path) -> None:
    """tfexam's own held-out file gone (a damaged home): not the model's fault. Retried, then a
    Result whose status says tfexam could not grade it, never a score for the model."""
    started = fallback_server.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    heldout = fallback_server.home / "sessions" / session / "heldout" / "Q1.npz"
    heldout.unlink()
    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    q1 = settled_question(fallback_server, session, "Q1", 1)
    assert q1["state"] == "error" and q1["score"] == 0
    assert q1["message"].startswith("tfexam could not grade this: a file it needs is missing")
    assert "Press Submit and Test to try again." in q1["message"]
    result = _latest_result(fallback_server, session, "Q1")
    assert result["status"] == "infrastructure", result
    assert any("(Tried 3 times.)" in m for m in result["messages"]), result["messages"]


def _latest_result(server: LiveServer, session: str, question: str) -> dict:
    """The question's latest Result, through the API (its id read from the service's store)."""
    import sqlite3

    with sqlite3.connect(server.home / "tfexam.sqlite3") as db:
        (sub,) = db.execute("SELECT MAX(id) FROM submissions WHERE session_id = ? AND "
                            "question_id = ?", (session, question)).fetchone()
    return server.get(f"/api/sessions/{session}/submissions/{sub}")["result"]

