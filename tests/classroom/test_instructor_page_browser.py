"""The instructor's page in a real Chromium, against a classroom service on PostgreSQL with a real
grading worker: the cohort live (joined, time left, each question's state and score; a failed
grading and a stuck one shown, never hidden), the score distribution per question, a learner's
report one click away, the CSV export; and a learner's credentials get a sentence, not the page.

The service runs in this process (a real uvicorn on a loopback port) with a manual clock started
at the real time, so the test can move the service's time past the five minutes after which a
waiting grading counts as stuck, instead of waiting five minutes. The worker is a real
`python -m server worker`; it is stopped before the last save, which therefore waits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.classroom.cohort import STUCK_SECONDS
from server.clock import ManualClock
from server.config import Settings
from tests.pages.conftest import LAPTOP, shot
from tests.support import models
from tests.support.classroom import RedisServer, Worker
from tests.support.in_process_service import InProcessService
from tests.support.postgres import PostgresServer
from tests.support.timing import spent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INSTRUCTOR = "instructor-token-for-the-page-test"


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _upload(api: httpx.Client, learner: dict[str, Any], data: bytes) -> None:
    answer = api.put(f"/api/sessions/{learner['session']}/questions/Q1/upload",
                     params={"name": "mymodel.h5"}, content=data,
                     headers={**_as(learner["token"]),
                              "x-content-sha256": hashlib.sha256(data).hexdigest()})
    assert answer.status_code == 201, answer.text


def _model_bytes(model: Any, path: Path) -> bytes:
    return models.save(model, path).read_bytes()


def _wrong_shape_line_model() -> Any:
    """Q1 takes one number and answers one: this answers two, so grading it fails."""
    import keras

    return keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(2)])


def _cohort(api: httpx.Client, sitting: str) -> dict[str, Any]:
    answer = api.get(f"/api/classroom/sittings/{sitting}", headers=_as(INSTRUCTOR))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _q1(cohort: dict[str, Any], name: str) -> dict[str, Any]:
    learner = next(r for r in cohort["learners"] if r["name"] == name)
    return dict(learner["questions"][0])


def _enter(context: Any, url: str, path: str, token: str) -> Any:
    """Open `path` as `tfexam open` does: a one-time code minted with `token`."""
    code = httpx.post(f"{url}/api/browser-codes", headers=_as(token), timeout=20).json()["code"]
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(f"{url}{path}?code={code}")
    tab.wait_for_url(f"{url}{path}")  # the page moves on without the code
    return tab


def _tfexam(root: Path, url: str, *args: str) -> str:
    """The `tfexam` command as the instructor runs it (the service's token in TFEXAM_TOKEN; a
    stand-in `BROWSER` records what it is given); returns what it printed."""
    browser = root / "browser"
    browser.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" > {root / 'opened.txt'}\n")
    browser.chmod(0o755)
    env = {**os.environ, "TFEXAM_TOKEN": INSTRUCTOR, "BROWSER": f"{browser} %s",
           "XDG_CACHE_HOME": str(root / "cache")}
    env = {k: v for k, v in env.items() if not k.startswith(("TFEXAM_DATABASE", "TFEXAM_BROKER"))}
    ran = subprocess.run([sys.executable, "-m", "plugin_bridge.cli", "--url", url, *args],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


def _tfexam_open(root: Path, url: str, sitting: str) -> str:
    """`tfexam open --sitting`: the address it gave the browser (through a private file)."""
    _tfexam(root, url, "open", "--sitting", sitting)
    handoff = Path((root / "opened.txt").read_text().strip().removeprefix("file://"))
    return handoff.read_text().split("url=")[1].split('"')[0].replace("&amp;", "&")


def test_the_instructor_follows_the_cohort_live(tmp_path: Path, postgres: PostgresServer,
                                                redis_server: RedisServer, keras_home: Path,
                                                chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    home = tmp_path / "home"
    database = postgres.create_database()
    clock = ManualClock(start=time.time())
    settings = Settings.from_env(home=home, database_url=database, broker_url=redis_server.url,
                                 token=INSTRUCTOR, settle_seconds=0.3)
    service = InProcessService(settings, clock).start()
    worker_env = {**os.environ, "TFEXAM_DATABASE_URL": database,
                  "TFEXAM_BROKER_URL": redis_server.url}
    worker = Worker(home, worker_env, "page").start()
    api = httpx.Client(base_url=service.url, timeout=30)
    try:
        # The instructor creates the sitting as the README says, with `tfexam sittings --new`.
        sitting = json.loads(_tfexam(tmp_path, service.url, "sittings", "--new", "smoke",
                                     "--minutes", "30", "--json"))
        listed = _tfexam(tmp_path, service.url, "sittings")
        assert sitting["id"] in listed and sitting["join_code"] in listed
        learners = {name: api.post("/api/classroom/join", json={
            "code": sitting["join_code"], "name": name}).json()
            for name in ("Ada", "Bob", "Cy", "Dan")}
        _upload(api, learners["Ada"], _model_bytes(models.line_model(), tmp_path / "ada.h5"))
        _upload(api, learners["Bob"], _model_bytes(models.line_model(weight=2.0, bias=-1.2),
                                                   tmp_path / "bob.h5"))
        _upload(api, learners["Cy"], _model_bytes(_wrong_shape_line_model(), tmp_path / "cy.h5"))
        with spent("polling"):
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                cohort = _cohort(api, sitting["id"])
                if all(_q1(cohort, n)["state"] in ("graded", "error") for n in ("Ada", "Bob", "Cy")):
                    break
                time.sleep(0.3)
        assert _q1(cohort, "Ada")["score"] == 5 and _q1(cohort, "Cy")["failed"], cohort
        # The learner's own exam page, live: a save graded by the worker (another process,
        # writing to PostgreSQL) reaches the open page without a reload. (That LISTEN/NOTIFY,
        # not the streams' 5 s fallback read, carries it is tests/store/test_backends.py's.)
        assert _q1(cohort, "Bob")["score"] < 5, cohort
        learner_view = chromium.new_context(viewport=LAPTOP)
        exam_page = _enter(learner_view, service.url, f"/sessions/{learners['Bob']['session']}",
                           learners["Bob"]["token"])
        bob_q1 = exam_page.locator('.card[data-question="Q1"] [data-field="score"]')
        expect(bob_q1).to_have_text(f"{_q1(cohort, 'Bob')['score']}/5")
        # The project is the one on the learner's machine; the service's copy is not named.
        expect(exam_page.locator(".meta")).to_contain_text("tfexam join made on your machine")
        assert str(home) not in exam_page.locator(".meta").inner_text()
        _upload(api, learners["Bob"], _model_bytes(models.line_model(), tmp_path / "bob-2.h5"))
        expect(bob_q1).to_have_text("5/5", timeout=120_000)
        learner_view.close()
        worker.stop()  # no worker left: Dan's save waits
        _upload(api, learners["Dan"], _model_bytes(models.line_model(), tmp_path / "dan.h5"))
        with spent("polling"):
            deadline = time.monotonic() + 60
            while not _q1(_cohort(api, sitting["id"]), "Dan")["submissions"]:  # queued
                assert time.monotonic() < deadline, _cohort(api, sitting["id"])
                time.sleep(0.2)
        clock.advance(STUCK_SECONDS + 60)  # the service's time: Dan's save has waited 6 minutes
        cohort = _cohort(api, sitting["id"])
        assert _q1(cohort, "Dan")["stuck"], cohort

        # The instructor opens the page as the README says: `tfexam open --sitting`, which
        # hands the browser a one-time address through a private file (never the token).
        address = _tfexam_open(tmp_path, service.url, sitting["id"])
        assert "?code=" in address and INSTRUCTOR not in address
        instructor = chromium.new_context(viewport=LAPTOP)
        errors: list[str] = []
        page = instructor.new_page()
        page.set_default_timeout(20_000)
        page.goto(address)
        page.wait_for_url(f"{service.url}/instructor/sittings/{sitting['id']}")
        page.on("pageerror", lambda error: errors.append(str(error)))
        assert INSTRUCTOR not in page.content()
        expect(page.locator("#summary")).to_contain_text("4 joined, 4 still sitting")
        row = {name: page.locator(f'#cohort tr[data-learner="{learners[name]["learner"]}"]')
               for name in learners}
        expect(row["Ada"].locator('td[data-question="Q1"]')).to_have_text("graded 5/5")
        expect(row["Cy"].locator('td[data-question="Q1"]')).to_contain_text("failed")
        expect(row["Cy"].locator('td[data-question="Q1"]')).to_have_class("failed")
        expect(row["Dan"].locator('td[data-question="Q1"]')).to_have_text("stuck")
        expect(row["Bob"].locator('td[data-question="Q1"]')).to_have_text(
            f"graded {_q1(cohort, 'Bob')['score']}/5")
        # Time left by the service's clock (which moves only when told): 30 minutes less 6.
        expect(row["Ada"].locator("td").nth(2)).to_have_text("0:24:00")
        problems = page.locator("#problems")
        expect(problems).to_contain_text(f"Cy, Q1: failed: {_q1(cohort, 'Cy')['message']}")
        expect(problems).to_contain_text("Dan, Q1: waiting for a worker for more than 5 minutes")
        # The distribution of Q1's scores, as graded: one count per learner with a score.
        scores = [_q1(cohort, n)["score"] for n in learners if _q1(cohort, n)["score"] is not None]
        distribution = page.locator('#dist tr[data-question="Q1"] td')
        expect(distribution.first).to_have_text("Q1")
        assert [int(distribution.nth(s + 1).inner_text()) for s in range(6)] == [
            scores.count(s) for s in range(6)]
        # Live: a learner who joins now appears without a reload.
        api.post("/api/classroom/join", json={"code": sitting["join_code"], "name": "Eve"})
        expect(page.locator("#summary")).to_contain_text("5 joined")
        expect(page.locator("#cohort")).to_contain_text("Eve")
        shot(page, "instructor-page", full_page=True)
        # The CSV export, by the page's own link and cookie.
        href = page.locator("#csv").get_attribute("href")
        exported = page.request.get(f"{service.url}{href}")
        assert exported.status == 200
        rows = list(csv.reader(io.StringIO(exported.text())))
        assert {r[1] for r in rows[1:]} == {"Ada", "Bob", "Cy", "Dan", "Eve"}
        assert next(r for r in rows if r[1] == "Ada")[rows[0].index("Q1_score")] == "5"
        # A learner's report, one click away.
        row["Ada"].get_by_role("link", name="Ada").click()
        page.wait_for_url(f"**/sessions/{learners['Ada']['session']}/report")
        expect(page.locator("body")).to_contain_text("Q1")
        assert errors == [], errors
        instructor.close()

        # Where the instructor lands (the address `serve` prints opens `/`): every sitting,
        # its join code, a link to its page; and a new sitting made with the page's form.
        code = api.post("/api/browser-codes", headers=_as(INSTRUCTOR)).json()["code"]
        lands = chromium.new_context(viewport=LAPTOP).new_page()
        lands.set_default_timeout(20_000)
        lands.goto(f"{service.url}/?code={code}")
        lands.wait_for_url(f"{service.url}/instructor")
        listed_row = lands.locator(f'#sittings tr[data-sitting="{sitting["id"]}"]')
        expect(listed_row).to_contain_text(sitting["join_code"])
        lands.locator('#new select[name="exam"]').select_option("smoke")
        lands.locator('#new input[name="title"]').fill("Friday mock")
        lands.get_by_role("button", name="Create").click()
        expect(lands.locator("#said")).to_contain_text('Created "Friday mock": its join code is')
        expect(lands.locator("#sittings")).to_contain_text("Friday mock")
        listed_row.get_by_role("link").click()
        lands.wait_for_url(f"{service.url}/instructor/sittings/{sitting['id']}")
        expect(lands.locator("#summary")).to_contain_text("5 joined")
        lands.context.close()

        # A learner's own code and cookie open their exam, never the instructor's page.
        learner = chromium.new_context(viewport=LAPTOP)
        tab = _enter(learner, service.url, f"/instructor/sittings/{sitting['id']}",
                     learners["Bob"]["token"])
        expect(tab.locator("body")).to_contain_text(
            "A learner sees and changes only their own sitting.")
        assert tab.locator("#cohort").count() == 0 and "Ada" not in tab.content()
        tab.goto(f"{service.url}/instructor")
        expect(tab.locator("body")).to_contain_text(
            "A learner sees and changes only their own sitting.")
        tab.goto(f"{service.url}/sessions/{learners['Bob']['session']}")
        expect(tab.locator("body")).to_contain_text("Q1")
        learner.close()
    finally:
        api.close()
        worker.stop()
        service.stop()
