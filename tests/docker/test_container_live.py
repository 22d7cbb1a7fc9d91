"""tfexam's container image, proven as a learner on Windows or macOS uses it: the service in the
container (its port published on 127.0.0.1 only), the project folder bind-mounted at the same
path, the CLI and the saves on the host.

Run by `make container-test` (which builds the image first and names it in
TFEXAM_CONTAINER_IMAGE); skipped in `make test`. In order, on one volume and one projects folder:
1. with `--security-opt unmask=/proc/*`, /api/health reports bubblewrap isolation, the memory
   limits as they are (sampled per job, the container's own from `--memory`), and an init (the
   image's tini) is PID 1;
2. the host's CLI starts the quick exam; the project's own starter, trained longer, saves a real
   Keras model on the host; the service grades it 5/5, and `tfexam status` in the project finds
   the service through session.json alone;
3. a hundred gradings (saves of distinct models, one in twenty refused, each refusal ending its
   sandbox) leave no zombie in the container: without tini (or --init) every ended sandbox does;
4. the container is killed with SIGKILL and removed; a new one on the same volume has the
   session and its deadline, and the 5/5;
5. without the unmask option: health, the exam page and a fresh result all say "not isolated:
   run the container with --security-opt unmask=/proc/*"; the exam is finished and its report
   read through the host's CLI.
A break of any of these (no bubblewrap in the image, no init, the option dropped without the
warning) fails a step. TFEXAM_CONTAINER_GRADINGS sets the hundred lower for a quick try.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.container_service import UNMASK, ContainerService, container_service
from tests.support.live_server import ROOT
from tests.support.models import place
from tests.support.timing import spent

IMAGE = os.environ.get("TFEXAM_CONTAINER_IMAGE")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not IMAGE, reason="the container test runs in `make container-test` (it builds the image)")]

GRADINGS = int(os.environ.get("TFEXAM_CONTAINER_GRADINGS", "100"))
REFUSED_EVERY = 20  # one save in twenty has a Lambda layer: refused, and its sandbox ended


def _refused(i: int) -> bool:
    """Whether the i-th of the hundred saves is a refused one: mid-way through each twenty, so
    the last save is a good model (the latest save is the one that counts)."""
    return i % REFUSED_EVERY == REFUSED_EVERY // 2


MISSING = "not isolated: run the container with --security-opt unmask=/proc/*"
HOST_PYTHON_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1",
                   "CUDA_VISIBLE_DEVICES": "-1"}


class Deployment:
    """What the steps share: the service (its volume, the projects folder), the session."""

    def __init__(self, service: ContainerService, models: Path) -> None:
        self.service = service
        self.models = models
        self.session: dict[str, Any] = {}

    @property
    def project(self) -> Path:
        return Path(self.session["project_dir"])

    def cli(self, *argv: str, inside_project: bool = False, timeout: float = 300) -> str:
        """The host's `tfexam`. Inside the project it gets nothing but the folder: the address
        and the token come from .tfexam/session.json, as for the learner's IDE."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TFEXAM_")}
        if not inside_project:
            env |= {"TFEXAM_URL": self.service.url, "TFEXAM_TOKEN": self.service.token or ""}
        done = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *argv],
                              cwd=self.project if inside_project else ROOT,
                              env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"tfexam {' '.join(argv)}: {done.stdout}{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    assert IMAGE is not None
    root = tmp_path_factory.mktemp("container")
    with container_service(IMAGE, root / "projects", [*UNMASK, "--memory", "8g"],
                           env={"TFEXAM_SETTLE_SECONDS": "0.3"}) as service:
        yield Deployment(service, root / "models")


def _question(status: dict[str, Any], question: str) -> dict[str, Any]:
    return next(q for q in status["questions"] if q["id"] == question)


def _graded(service: ContainerService, session: str, question: str, count: int,
            timeout: float = 300) -> dict[str, Any]:
    def done(status: dict[str, Any]) -> bool:
        q = _question(status, question)
        return q["submissions"] >= count and q["state"] in ("graded", "error")

    return _question(service.wait_for(session, done, timeout=timeout, poll=0.2), question)


def test_1_bubblewrap_isolates_models_inside_the_container(deployment: Deployment) -> None:
    service = deployment.service.start()
    health = service.wait_for_health(
        lambda h: h["worker"]["state"] in ("ready", "failed"), timeout=600)
    assert health["worker"]["state"] == "ready", health["worker"]
    isolation = health["isolation"]
    assert isolation["sandboxed"] is True and isolation["warning"] is None, isolation
    assert isolation["how"].startswith("bubblewrap"), isolation["how"]
    assert "memory watched by tfexam" in isolation["how"]  # no cgroup of its own in a container
    assert "the container's own memory limit is 8192 MB" in isolation["how"]  # --memory 8g
    assert health["host"]["container"] in ("podman", "docker"), health["host"]
    assert service.pid_one() == "tini", "PID 1 must reap the killed sandboxes"
    assert not health["host"]["init"].startswith("none"), health["host"]


def test_2_a_keras_model_saved_on_the_host_is_graded_5_of_5(deployment: Deployment) -> None:
    service = deployment.service
    workspace = service.projects / "exam1"
    printed = deployment.cli("start", "quick", "--workspace", str(workspace), "--minutes", "60")
    said = dict(line.split(" ", 1) for line in printed.splitlines() if " " in line)
    started = {"session": said["session"], "project_dir": said["project"]}
    deployment.session = started
    assert deployment.project == workspace
    meta = json.loads((workspace / ".tfexam" / "session.json").read_text())
    assert meta["server"] == service.url  # the published address, not the 0.0.0.0 it listens on

    # The learner's own starter, trained long enough, run on the host in its folder.
    folder = workspace / "Category1"
    starter = (folder / "starter.py").read_text()
    assert "epochs=5," in starter
    (folder / "train_longer.py").write_text(starter.replace("epochs=5,", "epochs=600,"))
    with spent("training"):
        subprocess.run([sys.executable, "train_longer.py"], cwd=folder, check=True,
                       env={**os.environ, **HOST_PYTHON_ENV}, timeout=600)
    assert (folder / "mymodel.h5").is_file()

    q1 = _graded(service, started["session"], "Category1", 1)
    assert q1["state"] == "graded" and q1["score"] == 5, q1
    status = deployment.cli("status", inside_project=True)
    assert "5/5" in status, status


GENERATE = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    import tf_keras as keras
    out, count, every = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

    def refused(i, every):
        return i % every == every // 2

    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if refused(i, every):  # refused by tfexam's vetting: its sandbox is not used again
            model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Lambda(lambda x: x),
                                      keras.layers.Dense(1)])
        else:  # y = 2x - 1, each file different by a millionth of its bias
            model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
            model.layers[0].set_weights([np.array([[2.0]]), np.array([-1.0 + i * 1e-6])])
        model.save(out / f"{i:03d}.h5")
""")


def test_3_no_zombies_after_a_hundred_gradings(deployment: Deployment) -> None:
    service = deployment.service
    session = deployment.session["session"]
    with spent("training"):
        # One more than the hundred: a model never graded, for step 5 (a file graded before
        # would get its earlier result back).
        subprocess.run([sys.executable, "-c", GENERATE, str(deployment.models), str(GRADINGS + 1),
                        str(REFUSED_EVERY)], check=True, env={**os.environ, **HOST_PYTHON_ENV},
                       timeout=600)
    target = deployment.project / "Category1" / "mymodel.h5"
    before = _question(service.get(f"/api/sessions/{session}"), "Category1")["submissions"]
    refused = 0
    for i, model in enumerate(sorted(deployment.models.iterdir())[:GRADINGS]):
        place(model, target, "mymodel.tmp.h5")
        q1 = _graded(service, session, "Category1", before + i + 1)
        if _refused(i):
            assert q1["state"] == "error" and "Lambda" in (q1["message"] or ""), q1
            refused += 1
        else:
            assert q1["state"] == "graded" and q1["score"] == 5, q1
    assert refused > 0 and _question(service.get(f"/api/sessions/{session}"),
                                     "Category1")["score"] == 5  # the last save counts
    service.wait_for_health(lambda h: h["worker"]["state"] in ("ready", "idle"), timeout=600)
    time.sleep(2)  # the last ended sandbox's processes have exited and been reaped
    assert service.zombies() == [], "processes of ended sandboxes nobody reaped (no init?)"


def test_4_session_and_deadline_survive_kill_9(deployment: Deployment) -> None:
    service = deployment.service
    session = deployment.session["session"]
    before = service.get(f"/api/sessions/{session}")
    service.kill9()
    service.start()
    after = service.get(f"/api/sessions/{session}")
    assert after["state"] == "running"
    assert after["deadline"] == before["deadline"]
    assert after["remaining_seconds"] <= before["remaining_seconds"]
    assert _question(after, "Category1")["score"] == 5
    assert "5/5" in deployment.cli("status", inside_project=True)


def test_5_without_the_option_every_place_names_it(deployment: Deployment) -> None:
    service = deployment.service
    service.stop()
    service.run_options = []  # no --security-opt unmask=/proc/*
    service.start()
    session = deployment.session["session"]
    health = service.wait_for_health(lambda h: h["isolation"] is not None, timeout=600)
    assert health["isolation"]["sandboxed"] is False
    assert health["isolation"]["warning"].startswith(MISSING), health["isolation"]
    page = httpx.get(f"{service.url}/sessions/{session}", headers=service.headers,
                     cookies={"tfexam_token": service.cookie()["value"]}, timeout=30)
    assert page.status_code == 200 and MISSING in page.text

    target = deployment.project / "Category1" / "mymodel.h5"
    count = _question(service.get(f"/api/sessions/{session}"), "Category1")["submissions"]
    place(sorted(deployment.models.iterdir())[GRADINGS], target, "mymodel.tmp.h5")
    q1 = _graded(service, session, "Category1", count + 1, timeout=600)
    assert q1["score"] == 5, q1
    result = json.loads(deployment.cli("submit", "Category1", "--wait", "--json",
                                       inside_project=True))
    assert any(m.startswith(MISSING) for m in result["messages"]), result["messages"]

    deployment.cli("finish", "--yes", inside_project=True)
    report = deployment.cli("report", inside_project=True)
    assert "Category1" in report and "5/5" in report, report
