"""Contract 2: a session runs in Keras 2 (the real exam's tf.keras) unless Keras 3 is chosen, and
every file that runs a learner's script (the project's .env, VS Code settings) says the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.services import Services
from server.sessions.service import SessionError
from server.sessions.status import session_status
from server.workspace.ide import write_ide_files
from server.workspace.keras_env import learner_env, write_keras_files


@pytest.fixture
def services(tmp_path: Path):
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False), ManualClock())
    yield built
    built.db.close()


def test_learner_env_selects_tf_keras_for_keras_2() -> None:
    assert learner_env("2") == {"TF_USE_LEGACY_KERAS": "1"}
    assert learner_env("3") == {"TF_USE_LEGACY_KERAS": "0"}
    with pytest.raises(ValueError, match='"2"'):
        learner_env("4")


def test_vscode_settings_are_merged_not_replaced(tmp_path: Path) -> None:
    (tmp_path / ".tfexam").mkdir()
    (tmp_path / ".tfexam" / "session.json").write_text(json.dumps(
        {"session": "s", "questions": {"Category1": "mymodel.h5"}, "keras": "2"}))
    write_ide_files(tmp_path)
    before = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    write_keras_files(tmp_path, "2")
    after = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    assert {k: after[k] for k in before} == before
    assert after["python.envFile"] == "${workspaceFolder}/.env"
    assert after["terminal.integrated.env.linux"]["TF_USE_LEGACY_KERAS"] == "1"
    assert "TF_USE_LEGACY_KERAS=1" in (tmp_path / ".env").read_text().splitlines()


@pytest.mark.parametrize(("chosen", "legacy"), [(None, "1"), ("3", "0"), ("2", "1")])
def test_session_carries_its_keras(services: Services, tmp_path: Path, chosen: str | None,
                                   legacy: str) -> None:
    extra = {} if chosen is None else {"keras": chosen}
    session = services.sessions.create("smoke", str(tmp_path / "ws"), minutes=5, **extra)
    expected = chosen or "2"
    assert services.sessions.get(session.id).keras == expected
    status = session_status(services.store, services.sessions.get(session.id), services.clock.now())
    assert status["keras"] == expected
    project = Path(session.project_dir)
    assert json.loads((project / ".tfexam" / "session.json").read_text())["keras"] == expected
    assert f"TF_USE_LEGACY_KERAS={legacy}" in (project / ".env").read_text()
    assert f"Keras {expected}" in (project / "README.md").read_text()


def test_unknown_keras_is_refused_with_a_sentence(services: Services, tmp_path: Path) -> None:
    with pytest.raises(SessionError, match='keras must be "2"'):
        services.sessions.create("smoke", str(tmp_path / "ws"), keras="4")


def test_api_takes_the_keras_choice(server, tmp_path: Path) -> None:
    """POST /api/sessions {"keras": "3"} over a real server; status, marker and report say it."""
    answer = server.post("/api/sessions", json={"exam": "smoke", "workspace": str(tmp_path / "ws"),
                                                "keras": "3"})
    assert answer.status_code == 201, answer.text
    session = answer.json()["session"]
    assert server.get(f"/api/sessions/{session}")["keras"] == "3"
    assert server.get(f"/api/sessions/{session}/report")["keras"] == "3"
    default = server.start_session(tmp_path / "ws2")
    assert server.get(f"/api/sessions/{default['session']}")["keras"] == "2"
    refused = server.post("/api/sessions", json={"exam": "smoke", "workspace": str(tmp_path / "ws3"),
                                                 "keras": "4"})
    assert refused.status_code in (400, 422), refused.text
