"""Inside an exam project the CLI needs no address and no token: it reads them from the project's
`.tfexam/session.json`, whatever port the service runs on; `time`, `watch`, `open` and `doctor`
against a real service, as subprocesses; and `watch`'s terminal view (rich) in-process."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from plugin_bridge.client import Client
from plugin_bridge.errors import EXIT_FAILED, EXIT_OK
from plugin_bridge.watch import watch
from tests.support import models
from tests.support.live_server import ROOT, LiveServer, free_port

pytestmark = pytest.mark.slow

TIME_LINE = re.compile(r"^\d+:\d\d:\d\d left · Q1 (–|\d/5|grading|waiting) · Q2 (–|\d/5|grading|waiting)$")


def learner_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A learner's shell: no tfexam variables at all, and a home folder with no token in it.
    The CLI run is this checkout's (the environment's install may point at another tree, and
    the subprocess starts outside this one)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TFEXAM_URL", "TFEXAM_TOKEN", "TFEXAM_HOME")}
    env["TFEXAM_HOME"] = str(tmp_path / "no-home")
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def tfexam(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_project_names_its_service_and_token(shared_server: LiveServer, tmp_path: Path
                                                 ) -> None:
    assert shared_server.port != 8765 and shared_server.token
    project = tmp_path / "exam"
    shared_server.start_session(project, minutes=30)
    env = learner_env(tmp_path)
    line = tfexam("time", cwd=project / "Q2", env=env)
    assert line.returncode == 0, line.stderr
    assert TIME_LINE.match(line.stdout.strip()), line.stdout
    assert line.stdout.startswith(("0:29:", "0:30:00"))

    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    session = (project / ".tfexam" / "session.json").read_text()
    sid = re.search(r'"session": "(\w+)"', session).group(1)  # type: ignore[union-attr]
    shared_server.wait_for(sid, lambda s: shared_server.question(s, "Q1")["score"] == 5)
    assert " · Q1 5/5 · Q2 –" in tfexam("time", cwd=project, env=env).stdout

    # An explicit address wins over the project's, and so does TFEXAM_URL.
    dead = f"http://127.0.0.1:{free_port()}"
    assert tfexam("--url", dead, "time", cwd=project, env=env).returncode == 4
    assert tfexam("time", cwd=project, env={**env, "TFEXAM_URL": dead}).returncode == 4


def test_watch_follows_grades_and_ends_with_the_report(shared_server: LiveServer,
                                                       tmp_path: Path) -> None:
    project = tmp_path / "exam"
    started = shared_server.start_session(project, minutes=30)
    watcher = subprocess.Popen([sys.executable, "-m", "plugin_bridge.cli", "watch"], cwd=project,
                               env=learner_env(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        first = watcher.stdout.readline()  # type: ignore[union-attr]
        assert TIME_LINE.match(first.strip()), first
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        seen = ""
        deadline = time.monotonic() + 90
        while "Q1 5/5" not in seen and time.monotonic() < deadline:
            seen += watcher.stdout.readline()  # type: ignore[union-attr]
        assert "Q1 5/5" in seen, seen
        assert shared_server.post(f"/api/sessions/{started['session']}/finish").status_code == 200
        out, err = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert "NOT PASSED" in out and "Q1         5/5" in out and "total" in out


def test_open_hands_the_browser_a_one_time_code_not_the_token(shared_server: LiveServer,
                                                              tmp_path: Path) -> None:
    """The browser's command line (public in `ps`) holds only a private file's address; the file
    (0600, in a 0700 folder of the user's cache) moves on to the page with a one-time code."""
    project = tmp_path / "exam"
    started = shared_server.start_session(project, minutes=30)
    opened = tmp_path / "opened.txt"
    browser = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\" %s"
    done = tfexam("open", cwd=project, env=learner_env(
        tmp_path, BROWSER=browser, XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr
    for _ in range(50):
        if opened.exists() and opened.read_text():
            break
        time.sleep(0.1)
    command_line = opened.read_text()
    assert command_line.startswith("file://") and "code" not in command_line
    handoff = Path(urllib.parse.urlsplit(command_line).path)
    assert handoff.parent == tmp_path / "cache" / "tfexam" / "open"
    assert stat.S_IMODE(handoff.stat().st_mode) == 0o600
    assert stat.S_IMODE(handoff.parent.stat().st_mode) == 0o700
    page = f"{shared_server.url}/sessions/{started['session']}"
    found = re.search(r'content="0;url=([^"]+)"', handoff.read_text())
    assert found, handoff.read_text()
    address = html.unescape(found.group(1))
    assert address.startswith(f"{page}?code=") and shared_server.token not in handoff.read_text()
    assert shared_server.token not in done.stdout  # the terminal shows the page, not the token
    entered = httpx.get(address)  # the browser's first visit: the code becomes the cookie
    assert entered.status_code == 200 and entered.cookies.get("tfexam_token")
    assert httpx.get(page, cookies=dict(entered.cookies)).status_code == 200
    assert httpx.get(address).status_code == 401, "the code works once"


def test_doctor_checks_the_machine_without_importing_tensorflow(shared_server: LiveServer,
                                                                tmp_path: Path) -> None:
    project = tmp_path / "exam"
    shared_server.start_session(project, minutes=30)
    probe = ("import sys; from plugin_bridge.cli import main; code = main(['doctor']); "
             "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
             "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=project, env=learner_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    out = done.stdout
    for row in ("Python", "TensorFlow", "Keras", "tf_keras", "Service", "Model files sandboxed",
                "Free disk", "Data: Q1", "PyCharm run configurations", "VS Code tasks",
                "tfexam for the IDE buttons"):
        assert re.search(rf"^{re.escape(row)}\b", out, re.M), (row, out)
    assert out.strip().splitlines()[-1].startswith("Verdict: ")
    assert f"tfexam at {shared_server.url}" in out
    assert re.search(r"^Model files sandboxed\s+(ok\s+yes|warn\s+no): \S", out, re.M), out

    # Without a service the verdict says so, and names the fix.
    down = tfexam("--url", f"http://127.0.0.1:{free_port()}", "doctor", cwd=tmp_path,
                  env=learner_env(tmp_path))
    assert down.returncode == 1
    assert "Verdict: not ready" in down.stdout and "Service" in down.stdout.splitlines()[-1]


def _smoke_templates(tmp_path: Path) -> Path:
    """The template check runs on the smoke exam alone (the others' data take a minute to make);
    the availability comes from the service, for all of its exams."""
    templates = tmp_path / "exams"
    shutil.copytree(ROOT / "exams" / "smoke", templates / "smoke")
    return templates


def test_exams_check_lists_missing_data(shared_server: LiveServer, tmp_path: Path) -> None:
    done = tfexam("--url", shared_server.url, "exams", "--check", "--quick", cwd=tmp_path,
                  env=learner_env(tmp_path, TFEXAM_HOME=str(shared_server.home),
                                  TFEXAM_EXAMS=str(_smoke_templates(tmp_path))))
    assert "check: ok" in done.stdout
    for exam in ("smoke", "quick", "tf-developer"):
        assert re.search(rf"^{exam}: (data here|data missing)$", done.stdout, re.M), done.stdout
    # Whether this machine has the data or not, the exit code says the same as the lines.
    missing = re.search(r"^\S+: data missing$", done.stdout, re.M) is not None
    assert done.returncode == (EXIT_FAILED if missing else EXIT_OK), done.stdout


def test_the_terminal_view_follows_grades_to_the_end(shared_server: LiveServer, tmp_path: Path
                                                     ) -> None:
    project = tmp_path / "exam"
    session = shared_server.start_session(project, minutes=25)["session"]
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=110, color_system=None)
    client = Client(shared_server.url, shared_server.token)

    def learner() -> None:
        time.sleep(1.0)
        models.save(models.line_model(), project / "Q1" / "mymodel.h5")
        shared_server.wait_for(session, lambda s: shared_server.question(s, "Q1")["score"] == 5)
        time.sleep(1.5)  # at least one redraw with the grade
        shared_server.post(f"/api/sessions/{session}/finish")

    acting = threading.Thread(target=learner)
    acting.start()
    report = watch(client, session, console)
    acting.join(timeout=60)
    drawn = screen.getvalue()
    assert report["passed"] is False and report["questions"][0]["score"] == 5
    assert "0:24:" in drawn and " left" in drawn  # the time bar's label
    assert "question" in drawn and "graded" in drawn and "5/5" in drawn
    assert "submitted" in drawn
    assert "NOT PASSED" in drawn


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory: pytest.TempPathFactory, keras_home: Path):
    """A service offline with an empty mirror: tf-developer's data sets are all missing (the
    smoke and quick exams make their data and stay available)."""
    root = tmp_path_factory.mktemp("offline")
    mirror = root / "no-mirror"
    live = LiveServer(root / "home", env={"TFEXAM_DATASETS": str(mirror),
                                          "TFEXAM_OFFLINE": "1"}).start()
    yield live, mirror
    live.stop()


def fix_sentence(mirror: Path, dataset: str) -> re.Pattern[str]:
    """The one thing to do for a missing data set, offline with a mirror set: a whole sentence
    naming the way online, the files and the mirror folder they belong in, and the restart."""
    return re.compile(r"Unset TFEXAM_OFFLINE and go online once \(tfexam downloads it\), or put "
                      rf"\S[^;]* in {re.escape(str(mirror / dataset))}, then restart tfexam\.")


def doctor_rows(out: str) -> dict[str, str]:
    """Each row of doctor's table as name -> "level detail", its folded lines joined again."""
    rows: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        row = re.match(r"^(\S.*?|  \S+)\s{2,}(ok|warn|FAIL)\s+(.*)$", line)
        if row:
            name = row[1]
            rows[name] = f"{row[2]} {row[3].strip()}"
        elif name and line.startswith(" " * 8) and line.strip():
            rows[name] += " " + line.strip()
    return rows


def test_doctor_names_the_exams_that_cannot_start_and_the_fix(offline_server, tmp_path: Path
                                                              ) -> None:
    bare, mirror = offline_server
    done = tfexam("--url", bare.url, "doctor", cwd=tmp_path,
                  env=learner_env(tmp_path, TFEXAM_HOME=str(bare.home)))
    out = done.stdout
    assert done.returncode == 0, out
    assert re.search(r"^Data: tf-developer\s+warn\s+cannot start here", out, re.M), out
    assert re.search(r"^  sunspots\s+warn\s+missing \(variants Category5/sunspots\)", out, re.M)
    # Every missing data set's row ends with its own fix, a real sentence (never "fix: —").
    missing = {name.strip(): detail for name, detail in doctor_rows(out).items()
               if name.startswith("  ") and " missing (variants " in detail}
    assert {"mnist", "sunspots", "sarcasm"} <= set(missing), out
    for dataset, detail in missing.items():
        assert f"looked in {mirror / dataset}" in detail, detail
        fix = detail.split("; fix: ", 1)[-1]
        assert fix_sentence(mirror, dataset).fullmatch(fix), (dataset, fix)
    verdict = " ".join(out.split("Verdict:")[-1].split())
    assert verdict.startswith("ready for quick, smoke; not for tf-developer"), verdict


def test_exams_check_fails_and_names_the_missing_data_and_the_fix(offline_server, tmp_path: Path
                                                                  ) -> None:
    """The complaint: offline without the data, `exams --check` said "ok" all the same."""
    bare, mirror = offline_server
    done = tfexam("--url", bare.url, "exams", "--check", "--quick", cwd=tmp_path,
                  env=learner_env(tmp_path, TFEXAM_HOME=str(bare.home),
                                  TFEXAM_EXAMS=str(_smoke_templates(tmp_path))))
    out = done.stdout
    assert "check: ok" in out, out  # the templates are fine: the failure is the data alone
    assert done.returncode == EXIT_FAILED, (done.returncode, out, done.stderr)
    assert re.search(r"^smoke: data here$", out, re.M) and re.search(
        r"^tf-developer: data missing$", out, re.M), out
    block = re.search(r"^  missing sunspots \(for Category5/sunspots\)\n"
                      r"((?:    looked in .+\n)+)    fix: (.+)$", out, re.M)
    assert block, out
    assert f"    looked in {mirror / 'sunspots'}\n" in block[1], block[1]
    assert fix_sentence(mirror, "sunspots").fullmatch(block[2]), block[2]
