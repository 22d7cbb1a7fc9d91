"""The exam page offers the VS Code extension: the .vsix shipped in the repository, so a clone
with no Node hands it over (a checkout that lost it gets a sentence saying how to get it back)."""

from __future__ import annotations

import json
import subprocess
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
    assert "git checkout plugin_bridge/vscode/tfexam.vsix" in answer.text
    assert answer.text.endswith(".")


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
    # The app's own router, on the file shipped in the repository: a fresh clone serves it.
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/vsix"
    assert download.content == VSIX.read_bytes()


def test_the_shipped_extension_is_in_the_repository_and_matches_its_manifest() -> None:
    """The .vsix is a tracked file (a clone has it), an extension VS Code can install (its
    manifest and entry point inside), built from this package.json; tools/vsix_same.py, run by
    `make vsix` in CI, checks every other file against a rebuild."""
    root = VSIX.parents[2]
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(VSIX.relative_to(root))],
                             cwd=root, capture_output=True, text=True, check=False)
    assert tracked.returncode == 0, tracked.stderr
    with zipfile.ZipFile(VSIX) as archive:
        names = set(archive.namelist())
        assert {"extension.vsixmanifest", "extension/package.json", "extension/out/extension.js"} <= names
        shipped = json.loads(archive.read("extension/package.json"))
    source = json.loads((root / "plugin_bridge" / "vscode" / "package.json").read_text())
    assert shipped == source, "package.json changed since the .vsix was built: make vsix-update"
