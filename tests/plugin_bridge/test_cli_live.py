"""The `tfexam` CLI against a real service, as a learner's terminal or IDE button runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import models
from tests.support.live_server import ROOT, LiveServer

pytestmark = pytest.mark.slow


def tfexam(server: LiveServer, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # The CLI finds the token as a learner's would: in the home folder named by TFEXAM_HOME.
    env = {**os.environ, "TFEXAM_HOME": str(server.home)}
    env.pop("TFEXAM_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url", server.url, *args],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=300, env=env)


def test_a_whole_exam_from_the_cli(shared_server: LiveServer, tmp_path: Path) -> None:
    listed = tfexam(shared_server, "exams")
    assert listed.returncode == 0 and "smoke" in listed.stdout

    started = tfexam(shared_server, "start", "smoke", "--workspace", str(tmp_path / "ws"),
                     "--minutes", "20")
    assert started.returncode == 0, started.stderr
    session = started.stdout.split()[1]
    assert f"project {tmp_path / 'ws'}" in started.stdout

    project = tmp_path / "ws"
    status = json.loads(tfexam(shared_server, "status", "--json", cwd=project / "Q1").stdout)
    for key in ("session", "exam", "state", "deadline", "remaining_seconds", "project_dir",
                "questions", "total", "passed"):
        assert key in status
    assert status["session"] == session and status["state"] == "running"
    assert status["deadline"].endswith("Z") and status["passed"] is None
    assert {q["state"] for q in status["questions"]} == {"none"}
    assert set(status["questions"][0]) >= {"id", "state", "score", "message"}

    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    submitted = tfexam(shared_server, "submit", "Q1", "--wait", cwd=project / "Q1")
    assert submitted.returncode == 0, submitted.stderr
    assert "Q1: 5/5" in submitted.stdout

    text = tfexam(shared_server, "status", cwd=project)
    assert "Q1" in text.stdout and "5/5" in text.stdout and "time left" in text.stdout

    finished = tfexam(shared_server, "finish", "--yes", cwd=project)
    assert finished.returncode == 0 and "NOT PASSED" in finished.stdout
    report = json.loads(tfexam(shared_server, "report", "--json", cwd=project).stdout)
    assert report["passed"] is False and report["questions"][0]["score"] == 5
    assert "study next" in tfexam(shared_server, "report", cwd=project).stdout
    assert shared_server.get("/api/health")["api_imports_tensorflow"] is False


def test_errors_are_one_sentence_on_stderr(shared_server: LiveServer, tmp_path: Path) -> None:
    unknown = tfexam(shared_server, "start", "nope", "--workspace", str(tmp_path / "ws"))
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("tfexam: There is no exam called 'nope'")
    down = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url",
                           "http://127.0.0.1:9", "exams"], capture_output=True, text=True)
    assert down.returncode == 4 and "tfexam serve" in down.stderr


def test_start_with_keras_3_reaches_the_session_and_its_run_configurations(
        shared_server: LiveServer, tmp_path: Path) -> None:
    project = tmp_path / "ws"
    started = tfexam(shared_server, "start", "smoke", "--workspace", str(project), "--keras", "3")
    assert started.returncode == 0, started.stderr
    status = json.loads(tfexam(shared_server, "status", "--json", cwd=project).stdout)
    assert status["keras"] == "3"
    run = (project / ".idea" / "runConfigurations" / "Run_starter_Q1.xml").read_text()
    assert '<env name="TF_USE_LEGACY_KERAS" value="0" />' in run
    default = tfexam(shared_server, "start", "smoke", "--workspace", str(tmp_path / "ws2"))
    assert default.returncode == 0
    submit = (tmp_path / "ws2" / ".idea" / "runConfigurations" / "Submit_and_Test_Q1.xml")
    assert '<env name="TF_USE_LEGACY_KERAS" value="1" />' in submit.read_text()
