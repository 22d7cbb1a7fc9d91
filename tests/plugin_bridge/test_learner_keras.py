"""TensorFlow's rule for what `tf.keras` is, as `doctor` applies it to a probed interpreter, and the
project's `.env` as `tfexam run` reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin_bridge.learner_keras import project_env, session_keras, tf_keras_of
from server.workspace.keras_env import dotenv_text

FACTS = {"executable": "/x/python", "python": "3.12.1", "tensorflow": "2.21.0", "keras": "3.15.1",
         "tf_keras": "2.21.0"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"legacy": None}, "3"),
    ({"legacy": "0"}, "3"),
    ({"legacy": "1"}, "2"),
    ({"legacy": "True"}, "2"),
    ({"legacy": "yes"}, "3"),  # TensorFlow reads only true, True and 1
    ({"legacy": "1", "tf_keras": None}, None),
    ({"tensorflow": "2.15.1", "keras": "2.15.0", "legacy": None}, "2"),
    ({"tensorflow": None}, None),
])
def test_which_keras_tf_keras_is(changes: dict[str, str | None], expected: str | None) -> None:
    keras, detail = tf_keras_of({**FACTS, **changes})
    assert keras == expected, detail
    assert detail.startswith("/x/python (Python 3.12.1)")


@pytest.mark.parametrize("keras", ["2", "3"])
def test_the_projects_env_file_is_read_as_written(tmp_path: Path, keras: str) -> None:
    (tmp_path / ".env").write_text(dotenv_text(keras))
    env = project_env(tmp_path)
    assert session_keras(env) == keras
    assert project_env(tmp_path / "nowhere") == {} and session_keras({}) is None

