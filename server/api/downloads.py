"""Downloads the exam page offers: the VS Code extension, shipped built in the repository (`make
vsix` rebuilds it where Node exists, and CI checks that the shipped one is what its sources build).

Not under /api: the file is the same for everyone and holds no exam data, so a browser fetches
it without the token (the Host check still applies)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

VSIX = Path(__file__).resolve().parents[2] / "plugin_bridge" / "vscode" / "tfexam.vsix"


def downloads_router(vsix: Path = VSIX) -> APIRouter:
    downloads = APIRouter(include_in_schema=False)

    @downloads.get("/downloads/tfexam.vsix")
    def extension() -> Response:
        if not vsix.is_file():
            return PlainTextResponse(
                "The tfexam extension for VS Code is missing from this tfexam folder: restore it "
                "with 'git checkout plugin_bridge/vscode/tfexam.vsix' (or build it with 'make "
                "vsix', which needs Node and npm), then download it again.", status_code=404)
        return FileResponse(vsix, media_type="application/vsix", filename="tfexam.vsix")

    return downloads
