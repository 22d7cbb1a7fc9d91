"""IDE files for the project folder: VS Code tasks that call the `tfexam` CLI, so the exam's
buttons (Submit and Test, status, finish) are one keystroke away in any editor that reads them.
"""

from __future__ import annotations

import json
from pathlib import Path


def _task(label: str, command: str) -> dict[str, object]:
    return {
        "label": label,
        "type": "shell",
        "command": command,
        "options": {"cwd": "${fileDirname}"},
        "problemMatcher": [],
    }


def write_ide_files(project_dir: Path) -> None:
    vscode = project_dir / ".vscode"
    vscode.mkdir(exist_ok=True)
    tasks = {
        "version": "2.0.0",
        "tasks": [
            _task("tfexam: Submit and Test this category",
                  "tfexam submit ${fileDirnameBasename} --wait"),
            _task("tfexam: status", "tfexam status"),
            _task("tfexam: finish exam", "tfexam finish"),
            _task("tfexam: report", "tfexam report"),
        ],
    }
    (vscode / "tasks.json").write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    settings = {"python.terminal.executeInFileDir": True}
    (vscode / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
