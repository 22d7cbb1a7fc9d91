"""What a learner met in the CLI on a first exam (issue 18, item 6; issue 17, item 6), against a
real service: `finish` asks first, a running exam's report is "in progress", exit 2 only for a
wrong command line, titles with the session's length, and a model saved after the cutoff named in
status and report instead of silently ignored."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from plugin_bridge.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.support import models
from tests.support.live_server import ROOT, LiveServer
from tests.support.timing import spent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, keras_home: Path) -> Iterator[LiveServer]:
    """A service of this module's own; most tests here never grade, so none waits for a sandbox."""
    live = LiveServer(tmp_path_factory.mktemp("small-things-home")).start()
    yield live
    live.stop()


def tfexam(server: LiveServer, *args: str, cwd: Path | None = None, stdin: str | None = None
           ) -> subprocess.CompletedProcess:
    """The CLI of this checkout, finding the token in the home as a learner's would. Without
    `stdin` it reads an empty input, as a script or a pipe gives it."""
    env = {**os.environ, "TFEXAM_HOME": str(server.home), "PYTHONPATH": str(ROOT)}
    env.pop("TFEXAM_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url", server.url, *args],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=300, env=env,
                          input=stdin or "")


def test_finish_asks_first_and_yes_is_for_scripts(service: LiveServer, tmp_path: Path) -> None:
    session = service.start_session(tmp_path / "ws")["session"]
    declined = tfexam(service, "finish", "--session", session, stdin="n\n")
    assert declined.returncode == EXIT_FAILED
    assert "Finish the exam? [y/N]" in declined.stderr
    assert "Not graded yet: Q1, Q2 (a question with no graded model scores 0)" in declined.stderr
    assert service.get(f"/api/sessions/{session}")["state"] == "running"

    unanswered = tfexam(service, "finish", "--session", session)  # no terminal, nothing typed
    assert unanswered.returncode == EXIT_USAGE
    assert unanswered.stderr.strip().splitlines()[-1] == (
        "tfexam: tfexam finish needs an answer: type y at its question, or pass --yes (for "
        "scripts).")
    assert service.get(f"/api/sessions/{session}")["state"] == "running"

    confirmed = tfexam(service, "finish", "--session", session, stdin="y\n")
    assert confirmed.returncode == EXIT_OK, confirmed.stderr
    assert service.get(f"/api/sessions/{session}")["state"] == "submitted"

    other = service.start_session(tmp_path / "ws2")["session"]
    scripted = tfexam(service, "finish", "--yes", "--session", other)
    assert scripted.returncode == EXIT_OK and "[y/N]" not in scripted.stderr


def test_exit_2_is_only_for_a_wrong_command_line(service: LiveServer, tmp_path: Path) -> None:
    """One rule, as the README states it: 2 when the command line is wrong (an unknown exam or
    question), 1 when it cannot be done as the exam stands (nothing saved, exam over)."""
    project = tmp_path / "ws"
    service.start_session(project)
    nothing = tfexam(service, "submit", "Q1", cwd=project)
    assert nothing.returncode == EXIT_FAILED, nothing.stderr
    assert nothing.stderr.startswith("tfexam: There is no model in")
    unknown_question = tfexam(service, "submit", "Q9", cwd=project)
    assert unknown_question.returncode == EXIT_USAGE, unknown_question.stderr
    unknown_exam = tfexam(service, "start", "nope", "--workspace", str(tmp_path / "other"))
    assert unknown_exam.returncode == EXIT_USAGE

    assert tfexam(service, "finish", "--yes", cwd=project).returncode == EXIT_OK
    over = tfexam(service, "submit", "Q1", cwd=project)
    assert over.returncode == EXIT_FAILED, over.stderr
    assert "already submitted" in over.stderr


def test_a_running_exams_report_is_in_progress_not_grading(service: LiveServer,
                                                           tmp_path: Path) -> None:
    project = tmp_path / "ws"
    service.start_session(project)
    report = tfexam(service, "report", cwd=project)
    assert report.returncode == EXIT_OK
    head = report.stdout.splitlines()[0]
    assert head.endswith("— in progress (the exam is still running: the verdict comes when it "
                         "is submitted)")
    assert "grading still running" not in report.stdout


def test_titles_say_the_sessions_own_length(service: LiveServer, tmp_path: Path) -> None:
    """The quick exam's title names its 20 minutes; a 10-minute practice says 10 everywhere."""
    project = tmp_path / "ws"
    started = tfexam(service, "start", "quick", "--workspace", str(project), "--minutes", "10")
    if started.returncode != EXIT_OK and "data" in started.stderr:
        pytest.skip(f"the quick exam's data is not here: {started.stderr}")
    assert started.returncode == EXIT_OK, started.stderr
    status = json.loads(tfexam(service, "status", "--json", cwd=project).stdout)
    assert status["exam_title"] == "Quick exam: two questions in 10 minutes"
    assert tfexam(service, "status", cwd=project).stdout.startswith(
        "Quick exam: two questions in 10 minutes — session")
    report = json.loads(tfexam(service, "report", "--json", cwd=project).stdout)
    assert report["exam"]["title"] == "Quick exam: two questions in 10 minutes"
    page = service.get("/api/sessions")  # the list the home page and history read
    assert "in 20 minutes" not in json.dumps(page)


def _late_note(server: LiveServer, session: str, question: str) -> dict:
    def noted(status: dict) -> bool:
        return "after" in (server.question(status, question)["note"] or "")

    return server.question(server.wait_for(session, noted, timeout=60), question)


def test_a_save_after_the_deadline_is_named_not_ignored(service: LiveServer,
                                                        tmp_path: Path) -> None:
    project = tmp_path / "ws"
    session = service.start_session(project, minutes=0.05)["session"]  # 3 s
    service.wait_for(session, lambda s: s["state"] == "submitted", timeout=60)
    before = service.question(service.get(f"/api/sessions/{session}"), "Q1")
    assert before["message"] == "No model was saved in time: this question scores 0."

    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    q1 = _late_note(service, session, "Q1")
    assert re.fullmatch(r"Q1/mymodel\.h5 saved \d+ s after the deadline: not counted; no model "
                        r"was saved in time, so this question scores 0\.", q1["message"]), q1
    assert q1["score"] is None and q1["submissions"] == 0 and q1["state"] == "none"

    text = tfexam(service, "status", cwd=project).stdout
    assert "after the deadline: not counted" in text and "until you save one" not in text
    report = json.loads(tfexam(service, "report", "--json", cwd=project).stdout)
    messages = next(q for q in report["questions"] if q["id"] == "Q1")["messages"]
    assert any(m == q1["message"] for m in messages)
    assert "after the deadline: not counted" in tfexam(service, "report", cwd=project).stdout
    # the report page, where the exam page leads once the exam is over
    cookie = service.cookie()
    html = httpx.get(f"{service.url}/sessions/{session}/report",
                     cookies={cookie["name"]: cookie["value"]}, timeout=30).text
    assert "after the deadline: not counted" in html


def test_a_late_save_names_the_model_that_counts(shared_server: LiveServer,
                                                 tmp_path: Path) -> None:
    """Finished by hand after a 5/5: a later, different save says so and changes nothing."""
    project = tmp_path / "ws"
    session = shared_server.start_session(project)["session"]
    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    graded = shared_server.wait_for(
        session, lambda s: shared_server.question(s, "Q1")["score"] == 5, timeout=180)
    counted = shared_server.question(graded, "Q1")
    assert shared_server.post(f"/api/sessions/{session}/finish").status_code == 200
    with spent("polling"):
        time.sleep(1.1)  # saved at least a second after the finish
    models.save(models.line_model(weight=3.0), project / "Q1" / "mymodel.h5")
    q1 = _late_note(shared_server, session, "Q1")
    assert re.fullmatch(
        r"Q1/mymodel\.h5 saved \d+ s after you finished the exam: not counted; the last model "
        rf"saved in time \(submission #{counted['latest_submission']}, 5/5\) counts\.",
        q1["message"]), q1
    assert q1["score"] == 5 and q1["submissions"] == 1
    report = shared_server.get(f"/api/sessions/{session}/report")
    assert next(q for q in report["questions"] if q["id"] == "Q1")["score"] == 5
