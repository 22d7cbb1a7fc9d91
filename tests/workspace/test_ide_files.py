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
