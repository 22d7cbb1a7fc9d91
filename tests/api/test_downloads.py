"""The exam page offers the VS Code extension: the built .vsix, or a sentence saying how to build
it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.api.downloads import VSIX, downloads_router


def client(vsix: Path) -> TestClient:
    app = FastAPI()
    app.include_router(downloads_router(vsix))
    return TestClient(app)


def test_the_built_extension_is_served(tmp_path: Path) -> None:
    vsix = tmp_path / "tfexam.vsix"
    with zipfile.ZipFile(vsix, "w") as archive:
        archive.writestr("extension/package.json", '{"name": "tfexam"}')
    answer = client(vsix).get("/downloads/tfexam.vsix")
    assert answer.status_code == 200
    assert answer.content == vsix.read_bytes()
    assert 'filename="tfexam.vsix"' in answer.headers["content-disposition"]


def test_an_unbuilt_extension_is_a_sentence(tmp_path: Path) -> None:
    answer = client(tmp_path / "absent.vsix").get("/downloads/tfexam.vsix")
    assert answer.status_code == 404
    assert "run 'make vsix'" in answer.text and answer.text.endswith(".")


def test_the_exam_page_links_to_it(tmp_path: Path) -> None:
    from server.app import create_app
    from server.clock import ManualClock
    from server.config import Settings

    settings = Settings.from_env(home=tmp_path / "home", start_worker=False, token=None)
    with TestClient(create_app(settings, ManualClock())) as app:
        started = app.post("/api/sessions", json={"exam": "smoke", "workspace": str(tmp_path / "ws")})
        page = app.get(f"/sessions/{started.json()['session']}").text
        assert 'href="/downloads/tfexam.vsix"' in page
        download = app.get("/downloads/tfexam.vsix")
    # The app's own router, on the file `make vsix` writes (CI builds it before the tests; a
    # checkout without Node has none): either answer is tfexam's, never the bare 404 of no route.
    if VSIX.is_file():
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == "application/vsix"
        assert download.content == VSIX.read_bytes()
    else:
        assert download.status_code == 404
        assert download.text.startswith("The tfexam extension for VS Code is not built"), \
            download.text
