"""The run configurations of a real exam project, read as PyCharm reads them and run exactly as
they say, against a live service, from a learner's shell whose PATH has no tfexam on it."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def learner_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TFEXAM_") and k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/bin:/bin"  # whichever interpreter the learner picked, tfexam is not on PATH
    return env


def run_as_pycharm(project: Path, name: str, interpreter: str, typed: str = ""
                   ) -> subprocess.CompletedProcess:
    """What PyCharm runs for a configuration: the parent environment plus its `envs`, in its
    working directory; a Shell Script's text by its interpreter, a Python script by the project's
    interpreter. `typed` is what the learner types into the Run console."""
    file = project / ".idea" / "runConfigurations" / (re.sub(r"[^A-Za-z0-9]", "_", name) + ".xml")
    config = ET.parse(file).getroot().find("configuration")
    assert config is not None and config.get("name") == name
    opts = {o.get("name"): o.get("value", "") for o in config.findall("option")}
    env = {**learner_env(), **{e.get("name", ""): e.get("value", "")
                               for e in config.findall("envs/env")}}

    def expand(value: str) -> str:
        return value.replace("$PROJECT_DIR$", str(project))

    if config.get("type") == "ShConfigurationType":
        assert opts["EXECUTE_SCRIPT_FILE"] == "false"
        command = [opts["INTERPRETER_PATH"], "-c", expand(opts["SCRIPT_TEXT"])]
        cwd = expand(opts["SCRIPT_WORKING_DIRECTORY"])
    else:
        assert config.get("type") == "PythonConfigurationType" and opts["IS_MODULE_SDK"] == "true"
        command = [interpreter, expand(opts["SCRIPT_NAME"]), *shlex.split(opts["PARAMETERS"])]
        cwd = expand(opts["WORKING_DIRECTORY"])
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          input=typed)


def test_every_configuration_works_against_the_service(shared_server: LiveServer, tmp_path: Path
                                                       ) -> None:
    project = tmp_path / "exam"
    session = shared_server.start_session(project, minutes=30)["session"]

    left = run_as_pycharm(project, "Exam time left", sys.executable)
    assert left.returncode == 0, left.stderr
    assert re.match(r"0:(29|30):\d\d left · Q1 – · Q2 –$", left.stdout.strip()), left.stdout

    trained = run_as_pycharm(project, "Run starter Q1", sys.executable)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert (project / "Q1" / "mymodel.h5").is_file() and not (project / "mymodel.h5").exists()
    graded = shared_server.wait_for(
        session, lambda s: shared_server.question(s, "Q1")["state"] == "graded", timeout=120)
    score = shared_server.question(graded, "Q1")["score"]

    submitted = run_as_pycharm(project, "Submit and Test Q1", sys.executable)
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.startswith(f"Q1: {score}/5")

    status = run_as_pycharm(project, "Exam status", sys.executable)
    assert status.returncode == 0 and f"{score}/5" in status.stdout and "time left" in status.stdout

    # It asks first, as the exam page does; the learner answers in PyCharm's Run console.
    finished = run_as_pycharm(project, "Finish exam", sys.executable, typed="y\n")
    assert finished.returncode == 0 and "(submitted)" in finished.stdout
    report = run_as_pycharm(project, "Report", sys.executable)
    assert report.returncode == 0 and "NOT PASSED" in report.stdout

    # VS Code's task for the same button runs the same command.
    tasks = {t["label"]: t for t in
             json.loads((project / ".vscode" / "tasks.json").read_text())["tasks"]}
    task = tasks["tfexam: Exam time left"]
    done = subprocess.run([task["command"], *task["args"]], env={**learner_env(),
                          **task["options"]["env"]}, capture_output=True, text=True,
                          cwd=task["options"]["cwd"].replace("${workspaceFolder}", str(project)))
    assert done.returncode == 0 and done.stdout.startswith("submitted · ")
