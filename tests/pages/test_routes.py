"""The pages in-process (no browser): what each route answers, the download, static files, the
token, and that a submitted exam's page leads to its report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.clock import ManualClock
from server.config import Settings


def _client(tmp_path: Path, token: str | None = None) -> TestClient:
    settings = Settings.from_env(home=tmp_path / "home", start_worker=False, token=token)
    return TestClient(create_app(settings, ManualClock()))


@pytest.fixture
def client(tmp_path: Path):
    with _client(tmp_path) as test_client:
        yield test_client


def _start(client: TestClient, folder: Path) -> str:
    response = client.post("/api/sessions", json={"exam": "smoke", "workspace": str(folder)})
    assert response.status_code == 201, response.text
    return response.json()["session"]


def test_home_lists_exams_and_past_sessions(client: TestClient, tmp_path: Path) -> None:
    session = _start(client, tmp_path / "ws")
    page = client.get("/").text
    assert "Smoke test: two tiny questions" in page and 'id="start-form"' in page
    assert f'href="/sessions/{session}"' in page
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", page), "nothing from a CDN"


def test_exam_page_carries_the_status_for_its_script(client: TestClient, tmp_path: Path) -> None:
    session = _start(client, tmp_path / "ws")
    page = client.get(f"/sessions/{session}").text
    assert 'id="initial-status"' in page and '"server_time"' in page
    assert 'aria-label="Submit and Test Q1"' in page and "<dialog" in page
    assert client.get("/static/exam.js").headers["content-type"].startswith("text/javascript")


def test_submitted_exam_leads_to_the_report_and_downloads(client: TestClient, tmp_path: Path):
    session = _start(client, tmp_path / "ws")
    client.post(f"/api/sessions/{session}/finish")
    moved = client.get(f"/sessions/{session}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/sessions/{session}/report"
    report = client.get(f"/sessions/{session}/report").text
    assert "NOT PASSED" in report and f"/sessions/{session}/report.html?download=1" in report
    download = client.get(f"/sessions/{session}/report.html", params={"download": 1})
    assert download.headers["content-disposition"] == (
        f'attachment; filename="tfexam-report-smoke-{session}.html"')
    assert "NOT PASSED" in download.text and "/history" not in download.text
    assert "content-disposition" not in client.get(f"/sessions/{session}/report.html").headers
    assert "trend" in client.get("/history").text


def test_unknown_sessions_and_files_are_404(client: TestClient) -> None:
    assert client.get("/sessions/nope").status_code == 404
    assert client.get("/sessions/nope/report").status_code == 404
    assert client.get("/sessions/nope/report.html").status_code == 404
    assert client.get("/static/missing.css").status_code == 404
    assert client.get("/static/..%2Froutes.py").status_code == 404


def test_with_a_token_pages_take_a_one_time_code_and_never_hold_the_token(tmp_path: Path
                                                                         ) -> None:
    with _client(tmp_path, token="s3cret") as client:
        assert client.get("/").status_code == 401
        assert client.get("/", params={"token": "s3cret"}).status_code == 401
        code = client.post("/api/browser-codes", headers={"Authorization": "Bearer s3cret"}
                           ).json()["code"]
        entered = client.get("/", params={"code": code})
        assert entered.status_code == 200 and 'content="0;url=/"' in entered.text, \
            "the page moves on to the address without the code"
        page = client.get("/")
        assert page.status_code == 200, "the cookie set on the first visit is enough"
        assert "s3cret" not in page.text and "Start an exam" in page.text
        client.cookies.clear()
        assert client.get("/", params={"code": code}).status_code == 401, "a code works once"


def test_the_title_names_the_length_chosen() -> None:
    from server.pages.render import exam_title_for, score_band

    title = "Quick exam: two questions in 20 minutes"
    assert exam_title_for(title, 20, 10) == "Quick exam: two questions in 10 minutes"
    assert exam_title_for(title, 20, 1) == "Quick exam: two questions in 1 minute"
    assert exam_title_for(title, 20, 20) == title
    assert exam_title_for("Smoke test", 10, 5) == "Smoke test"
    assert [score_band(s) for s in (None, 0, 1, 4, 5)] == ["none", "zero", "partial", "partial", "full"]
