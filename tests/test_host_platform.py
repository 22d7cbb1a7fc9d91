"""tfexam on hosts other than Linux, and in its container: what it says about isolation.

macOS and Windows are FAKED here (no such machine is available to these tests): see
tests/support/fake_platform/sitecustomize.py for exactly what is faked (the answer of
`platform.system()`, and top-level imports of Unix-only modules by tfexam's own code) and what
stays this Linux machine's. The container itself is proven by tests/docker/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import host_platform
from server.grading.confinement import sandbox
from tests.support.live_server import ROOT, LiveServer

FAKE = ROOT / "tests" / "support" / "fake_platform"
IMPORT_ALL = """
import importlib, pkgutil
failed = []
for package in ("server", "plugin_bridge"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if info.name.startswith("server.store.migrations"):
            continue  # Alembic's scripts: run by Alembic's own loader, not importable as modules
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failed.append(f"{info.name}: {error}")
print("\\n".join(failed))
"""


def _faked_env(system: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{FAKE}{os.pathsep}{ROOT}",
            "TFEXAM_TEST_FAKE_SYSTEM": system}


def test_every_module_of_the_service_and_cli_imports_without_unix_only_modules() -> None:
    """Windows has no fcntl, resource, termios, pwd …: none may be imported at import time."""
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL], cwd=ROOT, env=_faked_env("Windows"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", done.stdout


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_service_and_cli_start_and_say_use_the_container(tmp_path: Path, system: str,
                                                        keras_home: Path) -> None:
    """The service starts, health says the models are not isolated and how to isolate them (the
    container's command), nothing says sandboxed; the CLI's doctor says the same."""
    server = LiveServer(tmp_path / "home", env={"PYTHONPATH": f"{FAKE}{os.pathsep}{ROOT}",
                                                "TFEXAM_TEST_FAKE_SYSTEM": system,
                                                "TFEXAM_WARM_SANDBOXES": "1"})
    server.start()
    try:
        health = server.wait_for_health(lambda h: h.get("isolation") is not None, timeout=120)
        isolation = health["isolation"]
        assert isolation["sandboxed"] is False
        assert isolation["warning"].startswith("not isolated on this system")
        assert host_platform.CONTAINER_COMMAND in isolation["warning"]
        doctor = subprocess.run(
            [sys.executable, "-m", "plugin_bridge.cli", "--url", server.url, "doctor"], cwd=ROOT,
            env={**_faked_env(system), "TFEXAM_TOKEN": server.token or ""},
            capture_output=True, text=True, timeout=120)
        assert "not isolated on this system" in doctor.stdout + doctor.stderr, doctor.stdout
    finally:
        server.stop()


@pytest.mark.parametrize("system, shown", [("Darwin", "macOS"), ("Windows", "Windows")])
def test_the_plan_claims_no_isolation_on_macos_or_windows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str, shown: str) -> None:
    monkeypatch.setattr(host_platform, "system", lambda: system)  # FAKED platform
    plan = sandbox.plan(tmp_path)
    assert plan.kind == "rlimits" and plan.isolation.sandboxed is False
    assert plan.isolation.warning == (
        f"not isolated on this system ({shown}): a model's graph can read and write your files "
        f"and reach the network. To isolate it, use the container: {host_platform.CONTAINER_COMMAND}"
        " (README, 'On Windows or macOS').")
    with pytest.raises(RuntimeError, match="TFEXAM_SANDBOX=bwrap, but not isolated on this system"):
        sandbox.plan(tmp_path, "bwrap")


@pytest.mark.parametrize("engine, option", [("podman", "--security-opt unmask=/proc/*"),
                                            ("docker", "--security-opt systempaths=unconfined")])
def test_in_a_container_the_fallback_names_the_missing_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, option: str) -> None:
    """The fallback forced here stands for bubblewrap refused by a masked /proc (tests/docker/
    proves the real refusal in podman)."""
    monkeypatch.setattr(host_platform, "container_engine", lambda root=None: engine)
    warning = sandbox.plan(tmp_path, "landlock").isolation.warning or ""
    assert warning.startswith(f"not isolated: run the container with {option}")


def test_the_container_engine_is_told_by_its_marker_file(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Only in tfexam's image (which sets TFEXAM_IN_CONTAINER): this project's own test machine
    is a container too, where tfexam runs natively and no run option applies."""
    (tmp_path / ".dockerenv").touch()
    monkeypatch.delenv("TFEXAM_IN_CONTAINER", raising=False)
    assert host_platform.container_engine(tmp_path) is None
    monkeypatch.setenv("TFEXAM_IN_CONTAINER", "1")
    assert host_platform.container_engine(tmp_path) == "docker"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".containerenv").touch()
    assert host_platform.container_engine(tmp_path) == "podman"


@pytest.mark.parametrize("files, expected", [
    ({"memory.max": "max\n"}, None),
    ({"memory.max": "4294967296\n"}, 4096.0),
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n"}, None),  # v1: no limit
    ({"memory/memory.limit_in_bytes": "2147483648\n"}, 2048.0),
    ({}, None),
])
def test_the_containers_memory_limit_is_read_as_the_kernel_states_it(
        tmp_path: Path, files: dict[str, str], expected: float | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert host_platform.container_memory_limit_mb(tmp_path) == expected
