"""The project's IDE files: PyCharm run configurations in the XML PyCharm writes, VS Code tasks,
and the extension recommended; all calling tfexam by an absolute path, in the session's Keras."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from server.workspace.ide import write_ide_files


def project(tmp_path: Path, keras: str | None) -> Path:
    meta = {"session": "s1", "exam": "smoke", "server": "http://127.0.0.1:8765", "token": None,
            "questions": {"Q1": "mymodel.h5", "Q2": "mymodel.h5"}}
    if keras:
        meta["keras"] = keras
    (tmp_path / ".tfexam").mkdir()
    (tmp_path / ".tfexam" / "session.json").write_text(json.dumps(meta))
    write_ide_files(tmp_path)
    return tmp_path


def configurations(root: Path) -> dict[str, ET.Element]:
    found = {}
    for path in sorted((root / ".idea" / "runConfigurations").glob("*.xml")):
        component = ET.parse(path).getroot()
        assert component.tag == "component"
        assert component.get("name") == "ProjectRunConfigurationManager"
        config = component.find("configuration")
        assert config is not None and config.get("default") == "false"
        assert path.name == "".join(c if c.isalnum() else "_" for c in config.get("name", "")) + ".xml"
        found[config.get("name", "")] = config
    return found


def options(config: ET.Element) -> dict[str, str]:
    return {o.get("name", ""): o.get("value", "") for o in config.findall("option")}


def envs(config: ET.Element) -> dict[str, str]:
    return {e.get("name", ""): e.get("value", "") for e in config.findall("envs/env")}


@pytest.mark.parametrize(("keras", "legacy"), [(None, "1"), ("2", "1"), ("3", "0")])
def test_pycharm_gets_every_button_of_the_exam(tmp_path: Path, keras: str | None, legacy: str
                                               ) -> None:
    configs = configurations(project(tmp_path, keras))
    assert set(configs) == {"Submit and Test Q1", "Submit and Test Q2", "Exam time left",
                            "Exam status", "Finish exam", "Report", "Run starter Q1",
                            "Run starter Q2"}
    for name, config in configs.items():
        assert envs(config)["TF_USE_LEGACY_KERAS"] == legacy
        opts = options(config)
        if name.startswith("Run starter"):
            question = name.split()[-1]
            assert config.get("type") == "PythonConfigurationType"
            assert config.get("factoryName") == "Python"
            assert opts["IS_MODULE_SDK"] == "true" and opts["SDK_HOME"] == ""
            assert opts["WORKING_DIRECTORY"] == f"$PROJECT_DIR$/{question}"
            assert opts["SCRIPT_NAME"] == f"$PROJECT_DIR$/{question}/starter.py"
        else:
            assert config.get("type") == "ShConfigurationType"
            assert opts["EXECUTE_SCRIPT_FILE"] == "false"
            assert opts["SCRIPT_WORKING_DIRECTORY"] == "$PROJECT_DIR$"
            program = Path(shlex.split(opts["SCRIPT_TEXT"])[0])
            assert program.is_absolute() and program.exists()


def test_vscode_gets_the_same_set_as_tasks_and_the_extension(tmp_path: Path) -> None:
    root = project(tmp_path, "3")
    tasks = {t["label"]: t for t in json.loads((root / ".vscode" / "tasks.json").read_text())["tasks"]}
    assert set(tasks) >= {f"tfexam: {name}" for name in configurations(root)}
    assert "tfexam: Submit and Test this category" in tasks
    submit = tasks["tfexam: Submit and Test Q2"]
    assert Path(submit["command"]).is_absolute() and submit["args"][-3:] == ["submit", "Q2", "--wait"]
    assert submit["options"]["env"] == {"TF_USE_LEGACY_KERAS": "0"}
    starter = tasks["tfexam: Run starter Q1"]
    assert starter["options"]["cwd"] == "${workspaceFolder}/Q1" and starter["args"] == ["starter.py"]
    recommended = json.loads((root / ".vscode" / "extensions.json").read_text())["recommendations"]
    assert "tfexam.tfexam" in recommended
    package = json.loads((Path(__file__).resolve().parents[2] / "plugin_bridge" / "vscode"
                          / "package.json").read_text())
    assert f"{package['publisher']}.{package['name']}" == "tfexam.tfexam"


def test_every_ide_file_of_a_created_session_names_its_final_folder(tmp_path: Path) -> None:
    """A session is built in a staging folder and renamed in: nothing the IDEs read may name the
    staging folder, and PyCharm's module must be the one PyCharm makes for the final folder."""
    from server.clock import ManualClock
    from server.config import Settings
    from server.services import Services

    services = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), ManualClock())
    try:
        session = services.sessions.create("smoke", str(tmp_path / "exam1"), minutes=5)
    finally:
        services.db.close()
    root = Path(session.project_dir)
    assert root.name == "exam1"
    files = [p for folder in (".idea", ".vscode") for p in (root / folder).rglob("*") if p.is_file()]
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert ".partial" not in text and "tfexam-" not in text, (path, text)
        if path.suffix == ".xml":
            ET.fromstring(text)
        else:
            json.loads(text)
    configs = configurations(root)
    for name, config in configs.items():
        module = config.find("module")
        if name.startswith("Run starter"):
            assert module is not None and module.get("name") == "exam1"
            for key in ("WORKING_DIRECTORY", "SCRIPT_NAME"):
                assert Path(options(config)[key].replace("$PROJECT_DIR$", str(root))).exists()
    from plugin_bridge.doctor import ide_checks
    pycharm = next(c for c in ide_checks(root) if c.name == "PyCharm run configurations")
    assert pycharm.level == "ok" and "'exam1'" in pycharm.detail


def test_doctor_names_a_run_configuration_that_points_elsewhere(tmp_path: Path) -> None:
    from plugin_bridge.doctor import ide_checks
    for question in ("Q1", "Q2"):
        (tmp_path / "exam2" / question).mkdir(parents=True)
        (tmp_path / "exam2" / question / "starter.py").write_text("")
    root = project(tmp_path / "exam2", "2")
    assert next(c for c in ide_checks(root) if c.name == "PyCharm run configurations").level == "ok"
    starter = root / ".idea" / "runConfigurations" / "Run_starter_Q1.xml"
    starter.write_text(starter.read_text().replace('name="exam2"', 'name=".exam2.tfexam-1.partial"'))
    (root / ".idea" / "runConfigurations" / "Run_starter_Q2.xml").write_text("<component")
    pycharm = next(c for c in ide_checks(root) if c.name == "PyCharm run configurations")
    assert pycharm.level == "fail"
    assert "'.exam2.tfexam-1.partial'" in pycharm.detail and "Run_starter_Q2.xml" in pycharm.detail
