"""Every TFEXAM_* setting is parsed whole: a bad value is one sentence and the service does not
start (issue 18, item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import Settings
from server.environment import BadSetting, Environment
from tests.support.live_server import ROOT, free_port

BAD = [
    ("TFEXAM_WARM_SANDBOXES", "2.9", "a whole number from 0 to 8"),
    ("TFEXAM_WARM_SANDBOXES", "-3", "a whole number from 0 to 8"),
    ("TFEXAM_WARM_SANDBOXES", "9", "a whole number from 0 to 8"),
    ("TFEXAM_JOB_TIMEOUT", "3m", "a number of seconds above 0"),
    ("TFEXAM_JOB_TIMEOUT", "0", "a number of seconds above 0"),
    ("TFEXAM_JOB_TIMEOUT", "inf", "a number of seconds above 0"),
    ("TFEXAM_SETTLE_SECONDS", "-1", "a number of seconds above 0"),
    ("TFEXAM_GIVE_UP_SECONDS", "ten", "a number of seconds above 0"),
    ("TFEXAM_JOB_MEMORY_MB", "6G", "a number of megabytes from 256"),
    ("TFEXAM_JOB_MEMORY_MB", "12", "a number of megabytes from 256"),
    ("TFEXAM_MODEL_SIZE_MB", "nan", "a number of megabytes above 0"),
    ("TFEXAM_SANDBOX", "docker", "auto, bwrap or landlock"),
    ("TFEXAM_OFFLINE", "maybe", "1, true, yes or on"),
    ("TFEXAM_NO_TOKEN", "y", "1, true, yes or on"),
    ("TFEXAM_TOKEN", "two words", "printable ASCII characters without spaces"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD)
def test_a_bad_value_is_one_sentence_naming_the_setting_the_value_and_what_is_allowed(
        name: str, value: str, allowed: str) -> None:
    with pytest.raises(BadSetting) as caught:
        Environment.read({name: value})
    sentence = str(caught.value)
    assert sentence.startswith(f"{name}=")
    assert allowed in sentence
    assert "\n" not in sentence and sentence.endswith(".")
    if name == "TFEXAM_TOKEN":
        assert value not in sentence  # a secret is never echoed
    else:
        assert repr(value) in sentence


def test_good_values_are_taken_as_given_and_unset_ones_keep_the_settings_default() -> None:
    env = Environment.read({"TFEXAM_WARM_SANDBOXES": "2", "TFEXAM_JOB_TIMEOUT": " 90.5 ",
                            "TFEXAM_SANDBOX": "Landlock", "TFEXAM_OFFLINE": "off",
                            "TFEXAM_SETTLE_SECONDS": ""})
    assert env.overrides() == {"warm_sandboxes": 2, "job_time_limit": 90.5}
    assert env.sandbox == "landlock" and env.offline is False
    assert Environment.read({}).overrides() == {}


def test_settings_refuse_a_bad_value_rather_than_bend_it(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("TFEXAM_WARM_SANDBOXES", "2.9")  # once silently 2
    with pytest.raises(BadSetting, match="TFEXAM_WARM_SANDBOXES='2.9'"):
        Settings.from_env(home=tmp_path / "home")
    monkeypatch.setenv("TFEXAM_WARM_SANDBOXES", "2")
    assert Settings.from_env(home=tmp_path / "home").warm_sandboxes == 2


def test_a_folder_setting_that_names_a_file_or_nothing_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TFEXAM_EXAMS", str(tmp_path / "no-such-folder"))
    with pytest.raises(BadSetting, match="TFEXAM_EXAMS=.*no such folder"):
        Settings.from_env(home=tmp_path / "home")
    monkeypatch.delenv("TFEXAM_EXAMS")
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("TFEXAM_DATASETS", str(tmp_path / "a-file"))
    with pytest.raises(BadSetting, match="TFEXAM_DATASETS=.*names a file"):
        Settings.from_env(home=tmp_path / "home")


@pytest.mark.parametrize("command", [["-m", "server", "serve"], ["-m", "plugin_bridge.cli", "serve"]])
@pytest.mark.parametrize(("name", "value"), [("TFEXAM_WARM_SANDBOXES", "2.9"),
                                             ("TFEXAM_JOB_TIMEOUT", "3m")])
def test_the_service_does_not_start_with_a_bad_value(tmp_path: Path, command: list[str],
                                                      name: str, value: str) -> None:
    """`tfexam serve` (and the module it runs) exits with the sentence and code 2, no traceback,
    and leaves no service behind: the port stays free."""
    port = free_port()
    env = {**os.environ, name: value, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, *command, "--port", str(port), "--home",
                           str(tmp_path / "home"), "--no-browser"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"tfexam: {name}={value!r} is not allowed: it must be ")
    assert not (tmp_path / "home" / "tfexam.sqlite3").exists()
