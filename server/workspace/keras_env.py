"""Which Keras the learner's scripts run in, and the environment that selects it.

The real exam ran TensorFlow 2.x with Keras 2 as `tf.keras`; since TensorFlow 2.16 `tf.keras` is
Keras 3 unless `TF_USE_LEGACY_KERAS=1` makes it the `tf_keras` package (Keras 2). Exam-era scripts
(`model.predict([10.0])`, `metrics="accuracy"`, `ModelCheckpoint("x.ckpt")`) only run in Keras 2, so
that is a session's default; Keras 3 is a choice made at start. Every place that runs a learner's
script (the project's `.env`, VS Code, PyCharm run configurations, tasks, tests) takes its variables
from `learner_env`, so they cannot disagree.

An IDE that ignores `.env`, a terminal, or a learner's own script gets them too: each starter
begins with a protected preamble that sets them before TensorFlow is imported, `.tfexam/activate`
(sh), `activate.bat` and `activate.ps1` export them into a shell, and `tfexam run CategoryN
[script]` runs any script with them (it reads the project's `.env`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, get_args

KerasMode = Literal["2", "3"]
KERAS_MODES: tuple[str, ...] = get_args(KerasMode)
DEFAULT_KERAS: KerasMode = "2"
ENV_FILE = ".env"
PREAMBLE_BEGIN = "# ==== tfexam: DO NOT CHANGE THESE LINES"
PREAMBLE_END = "# ==== END OF THE LINES YOU MUST NOT CHANGE"
FIRST_IMPORT = re.compile(r"^(import|from)\s(?!__future__)", re.MULTILINE)  # after __future__
ACTIVATE_FILES = {  # file in .tfexam/ -> how one variable is set there
    "activate": "export {name}={value}",  # POSIX shells: `. .tfexam/activate`
    "activate.bat": "set {name}={value}",  # cmd.exe: `.tfexam\\activate.bat`
    "activate.ps1": '$env:{name} = "{value}"',  # PowerShell: `. .tfexam\\activate.ps1`
}

DESCRIPTIONS = {
    "2": "Keras 2 (tf.keras = tf_keras, TF_USE_LEGACY_KERAS=1), as in the real exam",
    "3": "Keras 3 (tf.keras = keras 3, TF_USE_LEGACY_KERAS=0), chosen at start",
}


def check_mode(keras: str) -> KerasMode:
    """The mode as given, or a ValueError whose sentence says what to send instead."""
    if keras not in KERAS_MODES:
        raise ValueError(f'keras must be "2" (the real exam\'s Keras, the default) or "3"; got {keras!r}.')
    return keras  # type: ignore[return-value]


def learner_env(keras: str) -> dict[str, str]:
    """The environment variables a learner's script needs to run in the session's Keras."""
    return {"TF_USE_LEGACY_KERAS": "1" if check_mode(keras) == "2" else "0"}


def describe(keras: str) -> str:
    return DESCRIPTIONS[check_mode(keras)]


def dotenv_text(keras: str) -> str:
    lines = [f"# tfexam: this project runs in {describe(keras)}.",
             "# Read by VS Code (python.envFile), PyCharm run configurations and `tfexam` tasks."]
    lines += [f"{name}={value}" for name, value in learner_env(keras).items()]
    return "\n".join(lines) + "\n"


def write_keras_files(project_dir: Path, keras: str) -> None:
    """`.env` in the project root, and VS Code settings that point the Python extension and the
    integrated terminal at it (merged into settings the IDE helper may already have written)."""
    env = learner_env(keras)
    (project_dir / ENV_FILE).write_text(dotenv_text(keras), encoding="utf-8")
    merge_vscode_settings(project_dir, {
        "python.envFile": "${workspaceFolder}/" + ENV_FILE,
        **{f"terminal.integrated.env.{system}": env for system in ("linux", "osx", "windows")}})


def merge_vscode_settings(project_dir: Path, values: dict[str, Any]) -> None:
    """Set these keys in `.vscode/settings.json`, keeping every other key (the IDE helper's, the
    learner's); a dict value is merged into the one already there, one level deep. Lives here, not
    in `ide`, because `ide` imports this module. An unreadable file is started afresh."""
    vscode = project_dir / ".vscode"
    vscode.mkdir(exist_ok=True)
    settings_path = vscode / "settings.json"
    try:
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = {}
    for key, value in values.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    settings_path.write_text(json.dumps(settings, indent=2), encoding="utf-8")


def starter_preamble(keras: str) -> str:
    """The lines a starter begins its code with: they select the session's Keras however the file
    is run (a terminal, an IDE that ignores `.env`), and must run before TensorFlow is imported."""
    what = "Keras 2, as the real exam" if check_mode(keras) == "2" else "Keras 3, chosen at start"
    lines = [f"{PREAMBLE_BEGIN}: this session runs {what} ====",
             "# They select the session's Keras however this file is run: keep them above the",
             "# TensorFlow import. `tfexam run` and `.tfexam/activate` do the same for other scripts.",
             "import os"]
    lines += [f'os.environ["{name}"] = "{value}"' for name, value in learner_env(keras).items()]
    return "\n".join([*lines, f"{PREAMBLE_END} ====", ""]) + "\n"


def with_preamble(source: str, keras: str) -> str:
    """The starter's text with the preamble put before its first import (after its comments, so
    the real exam's header stays on top); at the end of a file that imports nothing."""
    first = FIRST_IMPORT.search(source)
    at = first.start() if first else len(source)
    return source[:at] + starter_preamble(keras) + source[at:]


def write_activate_files(meta_dir: Path, keras: str) -> None:
    """Files a shell sources to run any script of the project in the session's Keras."""
    env = learner_env(keras)
    for name, form in ACTIVATE_FILES.items():
        comment = "rem" if name.endswith(".bat") else "#"
        lines = [f"{comment} tfexam: this project runs in {describe(keras)}.",
                 *(form.format(name=k, value=v) for k, v in env.items())]
        newline = "\r\n" if name.endswith(".bat") else "\n"
        (meta_dir / name).write_text(newline.join(lines) + newline, encoding="utf-8", newline="")
