"""A learner joins from their own folder with `tfexam join`, saves as the exam's starter does, and
the agent's upload is graded by a worker; the CLI works in that folder against the central
service; the instructor sees the cohort and exports it.

The learner's machine here has its own Python and `tfexam` (a virtual environment of its own, in
the test's folder, sharing the suite's packages), so the IDE files of the joined project can be
told apart from the service's: they must call the learner's. The save is a SavedModel folder
(model.export), the exam's third format: the agent sends it as one archive, the service unpacks
it and grades it as it grades a local SavedModel save."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support import models
from tests.support.classroom import Classroom
from tests.support.live_server import ROOT
from tests.support.timing import spent

pytestmark = pytest.mark.slow


def _tfexam(*argv: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The learner's tfexam (the first on the learner's PATH)."""
    return subprocess.run(["tfexam", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _learners_machine(root: Path) -> Path:
    """A virtual environment of the learner's own at `root`: its python (the suite's interpreter
    under another prefix, the suite's packages through a link) and a `tfexam` script beside it."""
    suite = Path(sys.prefix)
    (root / "bin").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text((suite / "pyvenv.cfg").read_text())
    (root / "lib").symlink_to(suite / "lib")
    python = root / "bin" / "python"
    python.symlink_to(Path(sys.executable).resolve())
    tfexam = root / "bin" / "tfexam"
    tfexam.write_text(f"#!{python}\nimport sys\nfrom plugin_bridge.cli import main\n"
                      "sys.exit(main())\n")
    tfexam.chmod(0o755)
    return python


def _browser(root: Path) -> Path:
    """A stand-in for the learner's web browser (`BROWSER`): it records the address it was given."""
    script = root / "browser"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> {root / 'opened.txt'}\n")
    script.chmod(0o755)
    return script


EXTENSION_CHECK = """
const path = require("path");
const { Api } = require(path.join(process.argv[1], "api.js"));
const { provenSocket } = require(path.join(process.argv[1], "identity.js"));
const project = JSON.parse(process.env.PROJECT);
const api = new Api({ session: project.session, server: project.server, token: project.token,
                      questions: Object.keys(project.questions), classroom: true });
(async () => {
  const out = {};
  try { (await provenSocket(project.server, project.token)).destroy(); out.without_session = "proven"; }
  catch (e) { out.without_session = "refused: " + e.message; }
  out.status = await api.request("GET", `/api/sessions/${project.session}`);
  out.page = await api.pageUrl(`/sessions/${project.session}`);
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ error: String(e) })); });
"""


def _extension_api(folder: Path, meta: dict[str, object]) -> dict[str, object] | None:
    """The shipped extension's API client (its compiled files from tfexam.vsix, run by Node
    without VS Code: api.js needs only Node's http), against the central service with the
    learner's project; None where Node is not installed."""
    node = shutil.which("node")
    if node is None:
        return None
    with zipfile.ZipFile(ROOT / "plugin_bridge" / "vscode" / "tfexam.vsix") as vsix:
        for name in vsix.namelist():
            if name.startswith("extension/out/") and name.endswith(".js"):
                folder.mkdir(parents=True, exist_ok=True)
                (folder / Path(name).name).write_bytes(vsix.read(name))
    ran = subprocess.run([node, "-e", EXTENSION_CHECK, str(folder)], capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                     "PROJECT": json.dumps(meta)})
    assert ran.returncode == 0, ran.stderr
    return dict(json.loads(ran.stdout))


def test_join_save_graded_and_seen_by_the_instructor(classroom: Classroom, tmp_path: Path) -> None:
    classroom.start(workers=1)
    service = classroom.service
    sitting = service.post("/api/classroom/sittings", {"exam": "smoke", "minutes": 30}).json()
    learner_env = {k: v for k, v in classroom.env.items()
                   if not k.startswith(("TFEXAM_DATABASE", "TFEXAM_BROKER", "TFEXAM_TOKEN"))}
    python = _learners_machine(tmp_path / "learner-venv")
    learner_env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path / "cache"),
                       BROWSER=f"{_browser(tmp_path)} %s",
                       PATH=f"{python.parent}:/usr/bin:/bin")
    folder = tmp_path / "ada-project"
    agent = subprocess.Popen(
        [str(python), "-m", "plugin_bridge.cli", "join", service.url, sitting["join_code"],
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
        # The IDE buttons call the learner's own tfexam, not the service machine's.
        tasks = json.loads((folder / ".vscode" / "tasks.json").read_text())["tasks"]
        status_task = next(t for t in tasks if t["label"] == "tfexam: Exam status")
        assert status_task["command"] == str(python.parent / "tfexam"), status_task
        submit_q1 = (folder / ".idea" / "runConfigurations" / "Submit_and_Test_Q1.xml").read_text()
        assert f"{python.parent / 'tfexam'} submit Q1 --wait" in submit_q1
        assert str(Path(sys.prefix)) not in "".join(
            p.read_text() for p in [*(folder / ".idea").rglob("*.xml"),
                                    *(folder / ".vscode").glob("*.json")])
        models.save(models.line_model(), folder / "Q1" / "mymodel")  # a SavedModel folder
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
        server_q1 = next((classroom.home / "classroom" / sitting["id"]).glob("*/project/Q1"))
        assert (server_q1 / "mymodel" / "saved_model.pb").is_file()  # graded as a SavedModel
        assert not [p.name for p in server_q1.iterdir() if p.name.startswith((".", "mymodel."))]
        # The learner's CLI, inside the folder, speaks to the central service with their token.
        status = _tfexam("status", "--json", cwd=folder / "Q1", env=learner_env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["questions"][0]["score"] == 5
        # The IDE's own "Exam status" button, as the IDE runs it, works against the service.
        button = subprocess.run([status_task["command"], *status_task["args"]], cwd=folder,
                                env={**learner_env, **status_task["options"]["env"]},
                                capture_output=True, text=True, timeout=120)
        assert button.returncode == 0 and "5/5" in button.stdout, button.stdout + button.stderr
        # It names the learner's own folder, not the service's copy on another machine.
        assert f"project {folder.resolve()}" in button.stdout, button.stdout
        # The VS Code extension (its shipped build) proves the service and reads the status.
        extension = _extension_api(tmp_path / "extension", meta)
        if extension is not None:
            assert "error" not in extension, extension
            assert extension["without_session"].startswith("refused"), extension
            assert extension["status"]["questions"][0]["score"] == 5, extension
            assert "?code=" in extension["page"] and meta["token"] not in extension["page"]
        # `tfexam open`: the browser gets a one-time code, never the token, and it opens the page.
        opened = _tfexam("open", cwd=folder, env=learner_env)
        assert opened.returncode == 0, opened.stderr
        handoff = (tmp_path / "opened.txt").read_text().split()[-1]
        assert meta["token"] not in handoff
        page_html = Path(handoff.removeprefix("file://")).read_text()
        address = page_html.split('url=')[1].split('"')[0].replace("&amp;", "&")
        assert "?code=" in address and meta["token"] not in address
        with httpx.Client(timeout=20) as browser:
            assert browser.get(address).status_code == 200  # spends the code, sets the cookie
            page = browser.get(address.split("?")[0])
            assert page.status_code == 200 and "Q1" in page.text, page.text[:300]
        assert httpx.get(address, timeout=20).status_code == 401  # spent, for another browser
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
