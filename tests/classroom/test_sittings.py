"""Sittings, joining and uploads through the real application (FastAPI's test client, a real
SQLite store, a manual clock): the service's clock rules the window and the deadline, a retried
upload is stored once, and a learner reaches only their own sitting. No broker is contacted (the
grading worker is not started), so these run without Redis or PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.clock import ManualClock
from server.config import Settings
from server.workspace.ide import tfexam_executable

INSTRUCTOR = "instructor-token-for-tests"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings.from_env(home=tmp_path / "home", start_worker=False,
                                 broker_url="redis://127.0.0.1:9/0", token=INSTRUCTOR)
    with TestClient(create_app(settings, clock)) as test_client:
        yield test_client


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _sitting(client: TestClient, **body: object) -> dict:
    answer = client.post("/api/classroom/sittings", json={"exam": "smoke", **body},
                         headers=_as(INSTRUCTOR))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _join(client: TestClient, code: str, name: str) -> dict:
    answer = client.post("/api/classroom/join", json={"code": code, "name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_window_and_the_deadline_follow_the_services_clock(client: TestClient,
                                                               clock: ManualClock) -> None:
    sitting = _sitting(client, opens_in_minutes=10, window_minutes=30, minutes=45)
    early = client.post("/api/classroom/join", json={"code": sitting["join_code"], "name": "A"})
    assert early.status_code == 403 and "opens at" in early.json()["detail"]
    clock.advance(15 * 60)
    joined = _join(client, sitting["join_code"].lower(), "Ada")  # codes are not case-sensitive
    status = client.get(f"/api/sessions/{joined['session']}", headers=_as(joined["token"])).json()
    assert abs(status["remaining_seconds"] - 45 * 60) < 1
    clock.advance(26 * 60)
    late = client.post("/api/classroom/join", json={"code": sitting["join_code"], "name": "B"})
    assert late.status_code == 403 and "closed at" in late.json()["detail"]
    wrong = client.post("/api/classroom/join", json={"code": "NOPE2345", "name": "C"})
    assert wrong.status_code == 404 and "join code" in wrong.json()["detail"]


def test_a_learner_reaches_only_their_own_sitting(client: TestClient) -> None:
    sitting = _sitting(client)
    ada = _join(client, sitting["join_code"], "Ada")
    bob = _join(client, sitting["join_code"], "Bob")
    assert client.get(f"/api/sessions/{ada['session']}", headers=_as(ada["token"])).status_code == 200
    for method, path in (("GET", f"/api/sessions/{bob['session']}"),
                         ("POST", f"/api/sessions/{bob['session']}/finish"),
                         ("GET", "/api/sessions"),
                         ("GET", f"/api/classroom/sittings/{sitting['id']}"),
                         ("POST", "/api/classroom/sittings"),
                         ("GET", f"/instructor/sittings/{sitting['id']}")):
        answer = client.request(method, path, headers=_as(ada["token"]), json={"exam": "smoke"})
        assert answer.status_code == 403, (method, path, answer.text)
    assert client.get("/api/sessions/" + ada["session"]).status_code == 401  # no token at all
    assert client.get("/api/sessions/" + ada["session"],
                      headers=_as("made-up")).status_code == 401
    # The exam page, opened by the learner's own one-time code, never carries the instructor's.
    code = client.post("/api/browser-codes", headers=_as(ada["token"])).json()["code"]
    assert client.get(f"/sessions/{ada['session']}?code={code}").status_code == 200
    page = client.get(f"/sessions/{ada['session']}")
    assert page.status_code == 200 and INSTRUCTOR not in page.text
    client.cookies.clear()
    cohort = client.get(f"/api/classroom/sittings/{sitting['id']}", headers=_as(INSTRUCTOR)).json()
    assert [learner["name"] for learner in cohort["learners"]] == ["Ada", "Bob"]


def test_the_project_comes_without_the_services_secrets(client: TestClient) -> None:
    sitting = _sitting(client)
    ada = _join(client, sitting["join_code"], "Ada")
    learners_tfexam = ["/home/ada/venv/bin/tfexam"]
    archive = client.post("/api/classroom/me/project.tar.gz", headers=_as(ada["token"]),
                          json={"tfexam": learners_tfexam, "folder_name": "ada-project"})
    assert archive.status_code == 200, archive.text
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        names = tar.getnames()
        assert "Q1/starter.py" in names and "Q2/question.md" in names
        assert sorted(n for n in names if n.startswith(".tfexam")) == [
            ".tfexam/activate", ".tfexam/activate.bat", ".tfexam/activate.ps1"]
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert INSTRUCTOR.encode() not in b"".join(files.values())
    # The IDE buttons call the learner's tfexam, not the one on the service's machine.
    tasks = json.loads(files[".vscode/tasks.json"])
    status_task = next(t for t in tasks["tasks"] if t["label"] == "tfexam: Exam status")
    assert [status_task["command"], *status_task["args"]] == [*learners_tfexam, "status"]
    service_tfexam = tfexam_executable()[0].encode()
    ide = {n: d for n, d in files.items() if n.startswith((".idea", ".vscode"))}
    assert ".idea/runConfigurations/Exam_status.xml" in ide
    assert b"/home/ada/venv/bin/tfexam status" in ide[".idea/runConfigurations/Exam_status.xml"]
    assert not [n for n, d in ide.items() if service_tfexam in d], "the service's path leaked"
    assert b'<module name="ada-project"' in ide[".idea/runConfigurations/Run_starter_Q1.xml"]
    settings = json.loads(files[".vscode/settings.json"])
    assert settings["python.envFile"] == "${workspaceFolder}/.env"  # the Keras settings kept
    odd = client.post("/api/classroom/me/project.tar.gz", headers=_as(ada["token"]),
                      json={"tfexam": ["tfexam\nrm -rf ~"], "folder_name": "a/b"})
    assert odd.status_code == 422


def test_a_retried_upload_is_stored_once_and_a_late_one_not_at_all(client: TestClient,
                                                                   clock: ManualClock) -> None:
    sitting = _sitting(client, minutes=20)
    ada = _join(client, sitting["join_code"], "Ada")
    content = b"\x89HDF\r\n\x1a\n" + b"model bytes" * 100
    digest = hashlib.sha256(content).hexdigest()
    path = f"/api/sessions/{ada['session']}/questions/Q1/upload"
    headers = {**_as(ada["token"]), "x-content-sha256": digest}
    first = client.put(path, params={"name": "mymodel.h5"}, content=content, headers=headers)
    assert first.status_code == 201 and first.json()["stored"] is True
    again = client.put(path, params={"name": "mymodel.h5"}, content=content, headers=headers)
    assert again.status_code == 201 and again.json()["stored"] is False
    cut = client.put(path, params={"name": "mymodel.h5"}, content=content[:50], headers=headers)
    assert cut.status_code == 400 and "incomplete" in cut.json()["detail"]
    odd = client.put(path, params={"name": "other.h5"}, content=content, headers=headers)
    assert odd.status_code == 400
    clock.advance(21 * 60)
    late = client.put(path, params={"name": "mymodel.h5"}, content=content + b"x",
                      headers={**headers, "x-content-sha256": hashlib.sha256(
                          content + b"x").hexdigest()})
    assert late.status_code == 409 and "does not count" in late.json()["detail"]


def test_pages_take_a_one_time_code_never_a_token_in_the_address(client: TestClient) -> None:
    """The learner's and the instructor's browsers get in by a code that acts for whoever asked
    for it; the token itself in an address opens nothing (it would land in `ps`, the browser's
    history and the access log)."""
    sitting = _sitting(client)
    ada = _join(client, sitting["join_code"], "Ada")
    exam_page = f"/sessions/{ada['session']}"
    instructor_page = f"/instructor/sittings/{sitting['id']}"

    by_token = client.get(f"{exam_page}?token={ada['token']}")
    assert by_token.status_code == 401 and "tfexam open" in by_token.text
    assert not client.cookies

    code = client.post("/api/browser-codes", headers=_as(ada["token"])).json()["code"]
    entered = client.get(f"{exam_page}?code={code}")
    assert entered.status_code == 200 and code not in entered.text
    assert f'url={exam_page}"' in entered.text  # moves on to the address without the code
    assert client.get(exam_page).status_code == 200  # the cookie now opens the learner's page
    mine = client.get(f"/api/sessions/{ada['session']}")  # and the API calls the page makes
    assert mine.status_code == 200
    refused = client.get(instructor_page)  # but the learner's cookie is no instructor's
    assert refused.status_code == 403 and "only their own sitting" in refused.text
    assert "<table" not in refused.text

    client.cookies.clear()
    again = client.get(f"{exam_page}?code={code}")  # spent: a sentence, not the page
    assert again.status_code == 401 and "already used or has expired" in again.text

    code = client.post("/api/browser-codes", headers=_as(INSTRUCTOR)).json()["code"]
    assert client.get(f"{instructor_page}?code={code}").status_code == 200
    page = client.get(instructor_page)
    assert page.status_code == 200 and "Download the scores (CSV)" in page.text
    assert INSTRUCTOR not in page.text

    # The address `serve` prints (a code the service mints for itself) is the instructor's.
    client.cookies.clear()
    printed = client.app.state.browser_codes.mint()
    assert client.get(f"/?code={printed}").status_code == 200
    assert client.get(instructor_page).status_code == 200


def _saved_model_tar(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    files = {"saved_model.pb": b"pb", "variables/variables.index": b"index",
             "variables/variables.data-00000-of-00001": b"data", **(extra or {})}
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def test_a_saved_model_folder_is_taken_once_per_content_and_a_hostile_one_refused(
        client: TestClient, tmp_path: Path) -> None:
    sitting = _sitting(client)
    ada = _join(client, sitting["join_code"], "Ada")
    path = f"/api/sessions/{ada['session']}/questions/Q1/upload"
    project = next((tmp_path / "home" / "classroom" / sitting["id"]).glob("*/project"))

    def send(body: bytes) -> object:
        return client.put(path, params={"name": "mymodel.savedmodel.tar"}, content=body,
                          headers={**_as(ada["token"]),
                                   "x-content-sha256": hashlib.sha256(body).hexdigest()})

    archive = _saved_model_tar()
    first = send(archive)
    assert first.status_code == 201 and first.json()["stored"] is True, first.text
    assert (project / "Q1" / "mymodel" / "variables" / "variables.index").read_bytes() == b"index"
    again = send(archive)
    assert again.status_code == 201 and again.json()["stored"] is False
    escape = send(_saved_model_tar({"../../../../escaped": b"x"}))
    assert escape.status_code == 400
    assert "outside the model's folder" in escape.json()["detail"]
    assert not list(tmp_path.rglob("escaped"))
    assert (project / "Q1" / "mymodel" / "saved_model.pb").read_bytes() == b"pb"  # kept
    other = client.put(path, params={"name": "other.savedmodel.tar"}, content=archive,
                       headers={**_as(ada["token"]),
                                "x-content-sha256": hashlib.sha256(archive).hexdigest()})
    assert other.status_code == 400 and "mymodel/" in other.json()["detail"]


def test_health_names_the_central_machine_to_its_instructor_only(client: TestClient) -> None:
    """Anyone may ask whether the service is up (the CLI asks before it sends a token); only the
    instructor learns its folders, database and clock."""
    sitting = _sitting(client)
    ada = _join(client, sitting["join_code"], "Ada")
    full = client.get("/api/health", headers=_as(INSTRUCTOR)).json()
    assert full["home"] and "database" in full and "clock" in full
    for headers in ({}, _as(ada["token"]), _as("a-guess")):
        seen = client.get("/api/health", headers=headers).json()
        assert seen["service"] == "tfexam" and seen["status"] == full["status"]
        assert set(seen["worker"]) <= {"state", "mode"}
        text = json.dumps(seen)
        assert str(full["home"]) not in text and "database" not in seen and "clock" not in seen
