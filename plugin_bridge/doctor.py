"""`tfexam doctor`: this machine checked as the real exam's set-up guide checked it.

Versions are read from the installed packages' metadata, never by importing TensorFlow (which
takes seconds and gigabytes); everything about the service comes from its API. Each check is a
row (ok, warn or fail, and what to do); the last line is the verdict.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.table import Table

from plugin_bridge.client import Client
from plugin_bridge.errors import EXIT_FAILED, EXIT_OK, CliError
from plugin_bridge.learner_keras import plain_python, project_env, session_keras
from plugin_bridge.project import Target

LOW_DISK_BYTES = 2 * 1024**3
NO_DISK_BYTES = 500 * 1024**2
PIPED_WIDTH = 240
MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warn | fail
    detail: str


def _version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def python_checks() -> list[Check]:
    where = f"in {sys.executable}"
    checks = [Check("Python", "ok" if sys.version_info >= (3, 10) else "fail",
                    f"{sys.version.split()[0]} {where}")]
    tf = _version("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")
    checks.append(Check("TensorFlow", "ok" if tf else "fail",
                        f"{tf} {where}" if tf else f"not installed {where}: pip install tensorflow"))
    keras = _version("keras")
    checks.append(Check("Keras", "ok" if keras else "warn",
                        f"{keras} (Keras {keras.split('.')[0]}, tf.keras unless "
                        "TF_USE_LEGACY_KERAS=1)" if keras else "not installed"))
    tf_keras = _version("tf_keras", "tf-keras")
    checks.append(Check("tf_keras", "ok" if tf_keras else "warn",
                        f"{tf_keras} (Keras 2: the real exam's tf.keras with TF_USE_LEGACY_KERAS=1)"
                        if tf_keras else "not installed: Keras 2 sessions (the real exam's) need "
                        "it: pip install tf_keras"))
    return checks


def disk_check(name: str, folder: Path) -> Check:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    level = "fail" if free < NO_DISK_BYTES else "warn" if free < LOW_DISK_BYTES else "ok"
    return Check(name, level, f"{free / 1024**3:.1f} GB free at {probe}")


def service_checks(client: Client) -> tuple[list[Check], dict[str, Any] | None]:
    try:
        health = client.check()
    except CliError as why:
        return [Check("Service", "fail", str(why))], None
    worker = health.get("worker") or {}
    checks = [Check("Service", "ok", f"tfexam at {client.url} (grader {worker.get('state', '?')})")]
    isolation = health.get("isolation")
    if isinstance(isolation, dict):
        sandboxed = bool(isolation.get("sandboxed"))
        detail = str(isolation.get("how") or "")
        if isolation.get("warning"):
            detail += f"; {isolation['warning']}"
        checks.append(Check("Model files sandboxed", "ok" if sandboxed else "warn",
                            ("yes: " if sandboxed else "no: ") + detail))
    elif "isolation" in health:
        checks.append(Check("Model files sandboxed", "warn",
                            "not known yet: the grader is still starting; run doctor again soon"))
    else:
        checks.append(Check("Model files sandboxed", "warn",
                            "unknown: this service does not report whether it isolates model files"))
    if health.get("home"):
        checks.append(disk_check("Free disk (service home)", Path(health["home"])))
    return checks, health


def data_checks(client: Client) -> tuple[list[Check], list[str], list[str]]:
    """Contract 3, per exam: whether it can start here, and for each missing data set the
    variants it serves, where tfexam looked and the fix. Also the exams ready and not ready."""
    try:
        exams = client.get("/api/exams")
    except CliError as why:
        return [Check("Data sets", "fail", str(why))], [], []
    checks: list[Check] = []
    ready: list[str] = []
    blocked: list[str] = []
    for exam in exams:
        name = f"Data: {exam['id']}"
        if "available" not in exam:
            checks.append(Check(name, "warn", "this service does not say whether the data is here"))
            continue
        missing = exam.get("missing") or []
        (ready if exam["available"] else blocked).append(exam["id"])
        if exam["available"] and not missing:
            checks.append(Check(name, "ok", "every question has its data here"))
        elif exam["available"]:
            checks.append(Check(name, "ok", "can start: questions draw among the variants whose "
                                "data is here"))
        else:
            checks.append(Check(name, "warn", "cannot start here: a question has no variant "
                                "whose data is here"))
        for item in missing:
            looked = "; ".join(item.get("looked_in") or [])
            checks.append(Check(
                f"  {item.get('dataset')}", "warn",
                f"missing (variants {', '.join(item.get('variants') or [])}); looked in "
                f"{looked or 'nowhere'}; fix: {item.get('fix') or '—'}"))
    return checks, ready, blocked


def project_checks(client: Client, target: Target) -> list[Check]:
    project = target.project
    if project is None:
        return [Check("Project", "ok", "not inside an exam project (run doctor there to check "
                      "its IDE files and data)")]
    checks = [Check("Project", "ok", f"{project.root} (session {project.session}, "
                    f"service {project.server or '?'})")]
    try:
        status = client.get(f"/api/sessions/{project.session}")
    except CliError as why:
        checks.append(Check("Session", "fail", str(why)))
        status = None
    if status:
        keras = status.get("keras") or project.data.get("keras")
        checks.append(Check("Session", "ok", f"{status['state']}, "
                            f"{'Keras ' + str(keras) if keras else 'Keras mode not reported'}"))
        for q in status["questions"]:
            data = q.get("data") or {}
            partial = "" if data.get("complete", True) else ", partial"
            checks.append(Check(f"Data: {q['id']}", "warn" if data.get("source") == "standin"
                                else "ok", f"{data.get('title')} from {data.get('source')}{partial}"))
    checks.append(disk_check("Free disk (project)", project.root))
    checks += keras_checks(project.root)
    checks += ide_checks(project.root)
    return checks


def keras_checks(root: Path) -> list[Check]:
    """The session's Keras against the one a plain `python` in this terminal would give, and
    whether each starter still selects the session's Keras itself (its protected first lines)."""
    env = project_env(root)
    wanted = session_keras(env)
    if wanted is None:
        return [Check("Keras of plain python", "warn", f"{root / '.env'} does not say which "
                      "Keras this session runs (a project made by an older tfexam)")]
    plain = plain_python()
    how = ("the starters select it themselves; run other scripts with 'tfexam run CategoryN "
           "script.py', or after '. .tfexam/activate' (Windows: .tfexam\\activate.bat)")
    if plain.keras == wanted:
        checks = [Check("Keras of plain python", "ok", f"Keras {wanted}, as this session: "
                        f"{plain.detail}")]
    elif plain.keras is None:
        checks = [Check("Keras of plain python", "warn", f"{plain.detail}; this session runs "
                        f"Keras {wanted}: use the Python that has it, or 'tfexam run CategoryN'")]
    else:
        checks = [Check("Keras of plain python", "warn", f"Keras {plain.keras}, but this session "
                        f"runs Keras {wanted} ({plain.detail}): {how}")]
    lines = [f'os.environ["{name}"] = "{value}"' for name, value in env.items()]
    starters = sorted(root.glob("*/starter.py"))
    lost = [s.parent.name for s in starters
            if not all(line in s.read_text(encoding="utf-8", errors="replace") for line in lines)]
    checks.append(Check("Starters select the session's Keras", "warn" if lost else "ok",
                        f"not {', '.join(lost)}: its first lines were changed; {how}" if lost
                        else f"{len(starters)} of {len(starters)} (Keras {wanted})"))
    return checks


def run_configuration_problems(root: Path, path: Path) -> list[str]:
    """What would make PyCharm refuse or misdirect one run configuration, read as PyCharm reads
    it: the module must be the project's (PyCharm names it after the folder), and every
    `$PROJECT_DIR$` path and the program a Shell Script runs must exist."""
    try:
        config = ET.parse(path).getroot().find("configuration")
    except (OSError, ET.ParseError) as why:
        return [f"{path.name} is unreadable ({why})"]
    if config is None:
        return [f"{path.name} holds no configuration"]
    name = config.get("name") or path.name
    problems = []
    options = {o.get("name", ""): o.get("value", "") for o in config.findall("option")}
    module = config.find("module")
    if module is not None and module.get("name") != root.name:
        problems.append(f"{name!r} names the module {module.get('name')!r}, not this project's "
                        f"{root.name!r}")
    for key in ("WORKING_DIRECTORY", "SCRIPT_NAME", "SCRIPT_WORKING_DIRECTORY"):
        value = options.get(key, "")
        if value.startswith("$PROJECT_DIR$") and not Path(
                value.replace("$PROJECT_DIR$", str(root), 1)).exists():
            problems.append(f"{name!r}: {value} does not exist")
    script = options.get("SCRIPT_TEXT")
    if script:
        try:
            program = shlex.split(script)[0]
        except (ValueError, IndexError):
            program = ""
        if not (program and os.access(program, os.X_OK)):
            problems.append(f"{name!r} runs {program or 'nothing'}, which is not there")
    return problems


def ide_checks(root: Path) -> list[Check]:
    runs = sorted((root / ".idea" / "runConfigurations").glob("*.xml"))
    tasks = root / ".vscode" / "tasks.json"
    problems = [p for run in runs for p in run_configuration_problems(root, run)]
    if problems:
        checks = [Check("PyCharm run configurations", "fail",
                        f"{len(problems)} problem(s) in .idea/runConfigurations: "
                        f"{'; '.join(problems[:3])}; start a new exam to get them right")]
    else:
        checks = [Check("PyCharm run configurations", "ok" if runs else "warn",
                        f"{len(runs)} in .idea/runConfigurations, module {root.name!r}, every "
                        "path there" if runs else "none: this project was made by an older tfexam")]
    try:
        parsed = json.loads(tasks.read_text(encoding="utf-8"))["tasks"]
    except (OSError, ValueError, KeyError, TypeError):
        checks.append(Check("VS Code tasks", "warn", f"{tasks} is missing or unreadable"))
        return checks
    commands = {t.get("command") for t in parsed if isinstance(t, dict)}
    tfexam = next((c for c in commands if isinstance(c, str) and Path(c).name.startswith("tfexam")),
                  None)
    checks.append(Check("VS Code tasks", "ok", f"{len(parsed)} in .vscode/tasks.json"))
    if tfexam:
        usable = os.access(tfexam, os.X_OK)
        checks.append(Check("tfexam for the IDE buttons", "ok" if usable else "fail",
                            tfexam if usable else f"{tfexam} is gone: reinstall tfexam there, or "
                            "start a new exam"))
    return checks


def run_doctor(client: Client, target: Target) -> int:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH  # a log or a pipe keeps each row on one line
    checks = python_checks()
    service, health = service_checks(client)
    checks += service
    ready: list[str] = []
    blocked: list[str] = []
    if health is not None:
        data, ready, blocked = data_checks(client)
        checks += data
        checks += project_checks(client, target)
    elif target.project is not None:
        checks += keras_checks(target.project.root) + ide_checks(target.project.root)
    table = Table(title=f"tfexam doctor (service address from {target.url_from})",
                  show_header=False, box=None, pad_edge=False)
    table.add_column("check", style="bold")
    table.add_column("level")
    table.add_column("detail", overflow="fold")
    for check in checks:
        table.add_row(check.name, MARK[check.level], check.detail)
    console.print(table)
    failures = [c for c in checks if c.level == "fail"]
    warnings = [c for c in checks if c.level == "warn"]
    if failures:
        console.print(f"Verdict: not ready: fix {len(failures)} problem(s) marked FAIL "
                      f"({', '.join(c.name for c in failures)}).")
        return EXIT_FAILED
    if ready and blocked:
        console.print(f"Verdict: ready for {', '.join(ready)}; not for {', '.join(blocked)} "
                      "(its data is missing: see the fix above).")
    elif blocked:
        console.print(f"Verdict: not ready: no exam can start here ({', '.join(blocked)} miss "
                      "data: see the fix above).")
        return EXIT_FAILED
    else:
        console.print("Verdict: ready for an exam" + (f", with {len(warnings)} warning(s) to "
                                                      "read." if warnings else "."))
    return EXIT_OK
