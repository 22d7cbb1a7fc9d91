"""A learner joins from their own folder with `tfexam join`, saves as the exam's starter does, and
the agent's upload is graded by a worker; the CLI works in that folder against the central
service; the instructor sees the cohort and exports it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import models
from tests.support.classroom import Classroom
from tests.support.live_server import ROOT
from tests.support.timing import spent

pytestmark = pytest.mark.slow


def _tfexam(*argv: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_join_save_graded_and_seen_by_the_instructor(classroom: Classroom, tmp_path: Path) -> None:
    classroom.start(workers=1)
    service = classroom.service
    sitting = service.post("/api/classroom/sittings", {"exam": "smoke", "minutes": 30}).json()
    learner_env = {k: v for k, v in classroom.env.items()
                   if not k.startswith(("TFEXAM_DATABASE", "TFEXAM_BROKER", "TFEXAM_TOKEN"))}
    learner_env["PYTHONPATH"] = str(ROOT)
    folder = tmp_path / "ada-project"
    agent = subprocess.Popen(
        [sys.executable, "-m", "plugin_bridge.cli", "join", service.url, sitting["join_code"],
         "--name", "Ada", "--folder", str(folder)],
        cwd=tmp_path, env=learner_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        meta_path = folder / ".tfexam" / "session.json"
        with spent("polling"):
            deadline = time.monotonic() + 60
            while not meta_path.is_file():
                assert agent.poll() is None, agent.stdout.read() if agent.stdout else ""
                assert time.monotonic() < deadline, "the project was not made"
                time.sleep(0.1)
        meta = json.loads(meta_path.read_text())
        assert meta["token"] != service.token and (folder / "Q1" / "starter.py").is_file()
        models.save(models.line_model(), folder / "Q1" / "mymodel.h5")
        cohort = {}
        with spent("polling"):
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                cohort = service.get(f"/api/classroom/sittings/{sitting['id']}")
                q1 = cohort["learners"][0]["questions"][0]
                if q1["score"] is not None:
                    break
                time.sleep(0.3)
        assert q1["state"] == "graded" and q1["score"] == 5, cohort
        # The learner's CLI, inside the folder, speaks to the central service with their token.
        status = _tfexam("status", "--json", cwd=folder / "Q1", env=learner_env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["questions"][0]["score"] == 5
        other = httpx.get(f"{service.url}/api/sessions", timeout=10,
                          headers={"authorization": f"Bearer {meta['token']}"})
        assert other.status_code == 403
        rows = list(csv.reader(io.StringIO(httpx.get(
            f"{service.url}/api/classroom/sittings/{sitting['id']}/results.csv",
            headers=service.headers, timeout=10).text)))
        assert rows[1][1] == "Ada" and rows[1][rows[0].index("Q1_score")] == "5"
    finally:
        agent.terminate()
        agent.wait(10)
