"""IDE files for the project folder: the real exam's buttons as PyCharm run configurations and VS
Code tasks, and the tfexam extension recommended to VS Code.

Every configuration calls the `tfexam` executable by the absolute path found when the session
started (the one beside the service's own Python), so the buttons work whichever interpreter the
learner picks for the project, and reach the right service: the CLI reads the address, session
and token from the project's `.tfexam/session.json`, which is written before these files.
"Run starter" configurations use the learner's interpreter, in the category's folder, so
`mymodel.h5` lands where it is graded, with the session's Keras selected by its environment.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from server.workspace.keras_env import DEFAULT_KERAS, learner_env, merge_vscode_settings

EXTENSION_ID = "tfexam.tfexam"
RUN_CONFIGURATIONS = Path(".idea") / "runConfigurations"


def tfexam_executable() -> list[str]:
    """The command that runs this tfexam's CLI: the `tfexam` script beside the service's
    Python (a virtual environment's bin folder), else the one on PATH, else this Python with
    `-m plugin_bridge.cli`. Absolute, so no PATH or interpreter choice can change it."""
    beside = Path(sys.executable).parent / ("tfexam.exe" if sys.platform == "win32" else "tfexam")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("tfexam")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "plugin_bridge.cli"]


def exam_commands(questions: list[str]) -> list[tuple[str, list[str]]]:
    """(name, tfexam arguments) of every exam button, in the order an IDE lists them."""
    commands = [(f"Submit and Test {q}", ["submit", q, "--wait"]) for q in questions]
    return commands + [
        ("Exam time left", ["time"]),
        ("Exam status", ["status"]),
        ("Finish exam", ["finish"]),
        ("Report", ["report"]),
    ]


def _file_name(name: str) -> str:
    """The file name PyCharm gives a configuration: every non-alphanumeric becomes `_`."""
    return re.sub(r"[^A-Za-z0-9]", "_", name) + ".xml"


def _configuration(name: str, kind: str, factory: str | None) -> tuple[ET.Element, ET.Element]:
    component = ET.Element("component", name="ProjectRunConfigurationManager")
    attributes = {"default": "false", "name": name, "type": kind}
    if factory:
        attributes["factoryName"] = factory
    return component, ET.SubElement(component, "configuration", attributes)


def _options(config: ET.Element, options: list[tuple[str, str]]) -> None:
    for key, value in options:
        ET.SubElement(config, "option", name=key, value=value)


def _envs(config: ET.Element, env: dict[str, str]) -> None:
    envs = ET.SubElement(config, "envs")
    for key, value in env.items():
        ET.SubElement(envs, "env", name=key, value=value)


def shell_configuration(name: str, command: list[str], env: dict[str, str]) -> ET.Element:
    """A Shell Script configuration (`ShConfigurationType`) that runs one command line in the
    project folder, in the Run tool window, as PyCharm writes one with "Script text"."""
    component, config = _configuration(name, "ShConfigurationType", None)
    _options(config, [
        ("SCRIPT_TEXT", shlex.join(command)),
        ("INDEPENDENT_SCRIPT_PATH", "true"),
        ("SCRIPT_PATH", ""),
        ("SCRIPT_OPTIONS", ""),
        ("INDEPENDENT_SCRIPT_WORKING_DIRECTORY", "true"),
        ("SCRIPT_WORKING_DIRECTORY", "$PROJECT_DIR$"),
        ("INDEPENDENT_INTERPRETER_PATH", "true"),
        ("INTERPRETER_PATH", "/bin/sh"),
        ("INTERPRETER_OPTIONS", ""),
        ("EXECUTE_IN_TERMINAL", "false"),
        ("EXECUTE_SCRIPT_FILE", "false"),
    ])
    _envs(config, env)
    ET.SubElement(config, "method", v="2")
    return component


def starter_configuration(name: str, module: str, question: str, env: dict[str, str]
                          ) -> ET.Element:
    """A Python configuration that runs a category's starter with the project's interpreter
    (whichever the learner chose), in the category's folder."""
    component, config = _configuration(name, "PythonConfigurationType", "Python")
    ET.SubElement(config, "module", name=module)
    _options(config, [("INTERPRETER_OPTIONS", ""), ("PARENT_ENVS", "true")])
    _envs(config, {"PYTHONUNBUFFERED": "1", **env})
    _options(config, [
        ("SDK_HOME", ""),
        ("WORKING_DIRECTORY", f"$PROJECT_DIR$/{question}"),
        ("IS_MODULE_SDK", "true"),
        ("ADD_CONTENT_ROOTS", "true"),
        ("ADD_SOURCE_ROOTS", "true"),
        ("SCRIPT_NAME", f"$PROJECT_DIR$/{question}/starter.py"),
        ("PARAMETERS", ""),
        ("SHOW_COMMAND_LINE", "false"),
        ("EMULATE_TERMINAL", "false"),
        ("MODULE_MODE", "false"),
        ("REDIRECT_INPUT", "false"),
        ("INPUT_FILE", ""),
    ])
    ET.SubElement(config, "method", v="2")
    return component


def _write_xml(path: Path, element: ET.Element) -> None:
    ET.indent(element, space="  ")
    path.write_text(ET.tostring(element, encoding="unicode") + "\n", encoding="utf-8")


def write_pycharm_files(project_dir: Path, questions: list[str], tfexam: list[str],
                        env: dict[str, str], module: str) -> None:
    """`module` is the project's PyCharm module: the name of the project's final folder (PyCharm
    names the module of an opened folder after it), not of the folder these files are written in,
    which during an atomic creation is a staging folder renamed afterwards."""
    folder = project_dir / RUN_CONFIGURATIONS
    folder.mkdir(parents=True, exist_ok=True)
    for name, args in exam_commands(questions):
        _write_xml(folder / _file_name(name), shell_configuration(name, [*tfexam, *args], env))
    for question in questions:
        name = f"Run starter {question}"
        _write_xml(folder / _file_name(name),
                   starter_configuration(name, module, question, env))


def _task(label: str, command: list[str], cwd: str, env: dict[str, str]) -> dict[str, object]:
    return {
        "label": label,
        "type": "process",
        "command": command[0],
        "args": command[1:],
        "options": {"cwd": cwd, "env": env},
        "presentation": {"reveal": "always", "panel": "shared", "clear": True},
        "problemMatcher": [],
    }


def write_vscode_files(project_dir: Path, questions: list[str], tfexam: list[str],
                       env: dict[str, str]) -> None:
    vscode = project_dir / ".vscode"
    vscode.mkdir(exist_ok=True)
    root = "${workspaceFolder}"
    tasks = [_task("tfexam: Submit and Test this category",
                   [*tfexam, "submit", "${fileDirnameBasename}", "--wait"], "${fileDirname}", env)]
    tasks += [_task(f"tfexam: {name}", [*tfexam, *args], root, env)
              for name, args in exam_commands(questions)]
    tasks += [_task(f"tfexam: Run starter {q}", ["${command:python.interpreterPath}", "starter.py"],
                    f"{root}/{q}", env) for q in questions]
    (vscode / "tasks.json").write_text(json.dumps({"version": "2.0.0", "tasks": tasks}, indent=2),
                                       encoding="utf-8")
    merge_vscode_settings(project_dir, {"python.terminal.executeInFileDir": True})
    (vscode / "extensions.json").write_text(
        json.dumps({"recommendations": [EXTENSION_ID, "ms-python.python"]}, indent=2),
        encoding="utf-8")


def write_ide_files(project_dir: Path, final_dir: Path | None = None) -> None:
    """PyCharm and VS Code files for the project whose `.tfexam/session.json` is written.
    `final_dir` is where the project will live when it is built elsewhere first (default: here)."""
    meta = json.loads((project_dir / ".tfexam" / "session.json").read_text(encoding="utf-8"))
    questions = list(meta.get("questions") or {})
    env = learner_env(str(meta.get("keras") or DEFAULT_KERAS))
    tfexam = tfexam_executable()
    write_pycharm_files(project_dir, questions, tfexam, env, (final_dir or project_dir).name)
    write_vscode_files(project_dir, questions, tfexam, env)
