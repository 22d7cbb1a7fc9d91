"""Issue 9: every attack of the issue, tried through a real service on hostile files built at test
time. After each: the Result is the honest one (a refusal or an error, never a forged score), no
file outside the sandbox changed, the service answered throughout, and the next submission is
graded honestly."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import attacks, models
from tests.support.live_server import LiveServer, settled_question

pytestmark = pytest.mark.slow


class Heartbeat:
    """Asks /api/health every 0.2 s while an attack is graded: the service must answer each time."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.answers: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        import httpx

        while not self._stop.is_set():
            started = time.monotonic()
            try:
                httpx.get(self.server.url + "/api/health", headers=self.server.headers,
                          timeout=5).raise_for_status()
                self.answers.append(time.monotonic() - started)
            except httpx.HTTPError as error:
                self.failures.append(str(error))
            self._stop.wait(0.2)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self.failures and self.answers, self.failures
        assert max(self.answers) < 5.0, max(self.answers)


@pytest.fixture(scope="module")
def hostile(shared_server: LiveServer, tmp_path_factory) -> dict[str, Path]:
    """The attack models, built once; targets are this service's own home and code."""
    folder = tmp_path_factory.mktemp("hostile")
    outside = folder / "outside"
    outside.mkdir()
    home = shared_server.home
    venv_file = Path(sys.prefix) / "lib" / "tfexam-planted.pth"
    built = {
        "write-outside": attacks.writer([str(outside / "planted.txt"), str(home / "planted.txt"),
                                         str(venv_file)], folder / "write"),
        "list-heldout": attacks.lister(str(home / "sessions" / "*" / "heldout" / "*.npz"),
                                       folder / "list"),
        "forge-replies": attacks.forger(folder / "forge"),
        "remote-file-system": attacks.network("gs://tfexam-probe/held-out.npz", folder / "net"),
    }
    built["_outside"] = outside
    built["_venv_file"] = venv_file
    return built


def _honest_next(server: LiveServer, session: str, project: Path, count: int) -> None:
    """The next submission, in the same session, is graded on its merits."""
    models.save(models.line_model(), project / "Q1" / "mymodel.h5")
    q1 = settled_question(server, session, "Q1", count)
    assert q1["state"] == "graded" and q1["score"] == 5, q1


@pytest.mark.parametrize("attack", ["write-outside", "read-heldout", "list-heldout",
                                    "forge-replies", "remote-file-system"])
def test_graph_attacks_get_nothing(shared_server: LiveServer, exam, hostile, attack: str) -> None:
    import shutil

    session, project = exam
    if attack == "read-heldout":  # this session's own held-out file, which exists out there
        heldout = shared_server.home / "sessions" / session / "heldout" / "Q2.npz"
        assert heldout.is_file()
        hostile[attack] = attacks.reader(str(heldout), project.parent / "read")
    shared_server.wait_worker()
    before = {p.name for p in hostile["_outside"].iterdir()}
    with Heartbeat(shared_server):
        shutil.copytree(hostile[attack], project / "Q2" / "incoming")
        (project / "Q2" / "incoming").rename(project / "Q2" / "mymodel")
        q2 = settled_question(shared_server, session, "Q2", 1)
    assert q2["score"] in (0, None) or q2["score"] <= 1, q2
    if attack == "list-heldout":
        # Matching files finds nothing there (not an error): the honest constant answer stands.
        assert q2["state"] == "graded" and "NaN" not in q2["message"], q2
    else:
        assert q2["state"] == "error" and "NaN" not in q2["message"], q2
        assert "The model failed while predicting" in q2["message"], q2
    assert {p.name for p in hostile["_outside"].iterdir()} == before
    assert not (shared_server.home / "planted.txt").exists()
    assert not hostile["_venv_file"].exists()
    _honest_next(shared_server, session, project, 1)


def test_forged_replies_do_not_reach_another_session(shared_server: LiveServer, hostile,
                                                     tmp_path: Path) -> None:
    """The old attack set the *next* submission's score, in another session, to 5/5: grade the
    forger, then an untrained model elsewhere, which must keep its own (low) score."""
    import shutil

    first = shared_server.start_session(tmp_path / "a", minutes=30)
    second = shared_server.start_session(tmp_path / "b", minutes=30)
    shutil.copytree(hostile["forge-replies"], Path(first["project_dir"]) / "Q2" / "mymodel")
    untrained = models.line_model(weight=0.0, bias=0.0)  # predicts 0 always
    models.save(untrained, Path(second["project_dir"]) / "Q1" / "mymodel.h5")
    forged = settled_question(shared_server, first["session"], "Q2", 1)
    honest = settled_question(shared_server, second["session"], "Q1", 1)
    assert forged["score"] in (0, None) and forged["state"] == "error"
    assert honest["state"] == "graded" and honest["score"] == 0, honest  # MSE ~ 100: 0/5


def test_config_attacks_are_refused_before_loading(shared_server: LiveServer, exam,
                                                   tmp_path: Path) -> None:
    session, project = exam
    marker = tmp_path / "code-ran"
    good = models.save(models.blobs_model(), tmp_path / "good.keras")
    command = {"command": f"touch {marker}"}
    attacks.config_module_keras(good, project / "Q2" / "mymodel.keras", "os", "system", command)
    q2 = settled_question(shared_server, session, "Q2", 1)
    assert q2["score"] == 0 and "uses 'system' from the module 'os'" in q2["message"], q2
    (project / "Q2" / "mymodel.keras").unlink()
    attacks.lambda_h5(tmp_path / "lambda.h5", marker)
    os.replace(tmp_path / "lambda.h5", project / "Q2" / "mymodel.h5")
    q2 = settled_question(shared_server, session, "Q2", 2)
    assert q2["score"] == 0 and "is a Lambda layer" in q2["message"], q2
    assert not marker.exists()
    _honest_next(shared_server, session, project, 1)


def test_special_files_links_and_sizes_are_refused_without_blocking(
        shared_server: LiveServer, exam, tmp_path: Path) -> None:
    session, project = exam
    q2_file = project / "Q2" / "mymodel.h5"
    with Heartbeat(shared_server):
        os.mkfifo(q2_file)  # this used to hang the API, the sweeper and start-up
        q2 = settled_question(shared_server, session, "Q2", 1, timeout=60)
        assert q2["state"] == "error" and "is a FIFO (named pipe)" in q2["message"], q2
        pressed = shared_server.post(f"/api/sessions/{session}/questions/Q2/submit")
        assert pressed.status_code == 200, pressed.text
        q2_file.unlink()
        outside = models.save(models.blobs_model(), tmp_path / "elsewhere" / "model.h5")
        q2_file.symlink_to(outside)
        q2 = settled_question(shared_server, session, "Q2", 2, timeout=60)
        assert "outside the project folder" in q2["message"], q2
        q2_file.unlink()
        good = models.save(models.blobs_model(), tmp_path / "good.keras")
        attacks.zip_bomb_keras(good, tmp_path / "bomb.keras", unpacked_mb=300)
        os.replace(tmp_path / "bomb.keras", project / "Q2" / "mymodel.keras")
        q2 = settled_question(shared_server, session, "Q2", 3, timeout=60)
        assert "zip bomb" in q2["message"], q2
    snapshots = list((shared_server.home / "sessions" / session / "snapshots").glob("*/*"))
    assert not [s for s in snapshots if s.name == "mymodel.keras"]  # never copied
    _honest_next(shared_server, session, project, 1)
