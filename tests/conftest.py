"""Test-wide settings: data mirror, a private Keras home, quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.live_server import ROOT, LiveServer
from tests.support.timing import SuiteTiming

_FIRST_SERVER = pytest.StashKey[int]()

SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
if not os.environ.get("TFEXAM_DATASETS") and SHARED_DATASETS.is_dir():
    os.environ["TFEXAM_DATASETS"] = str(SHARED_DATASETS)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


# What `make test-pythons` runs on the oldest and newest Python, in an environment without
# TensorFlow (tools/test_pythons.py, which also starts the service there): quick tests that need
# neither TensorFlow, nor a browser, nor a service started for them.
LIGHT = ("tests/test_clock.py", "tests/test_manifest.py", "tests/test_vocabulary.py",
         "tests/store/", "tests/tools/", "tests/plugin_bridge/test_cli_text.py",
         "tests/plugin_bridge/test_learner_keras.py", "tests/report/", "tests/api/test_broadcast.py",
         "tests/api/test_downloads.py", "tests/datasets/", "tests/grading/trusted/", "tests/workspace/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(ROOT).as_posix()
        heavy = item.get_closest_marker("slow") or item.get_closest_marker("browser")
        if where.startswith(LIGHT) and not heavy and not where.endswith("_live.py"):
            item.add_marker(pytest.mark.light)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SuiteTiming(config), "tfexam-suite-timing")


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Keras home of the test run's own, so tests never touch the developer's ~/.keras."""
    home = tmp_path_factory.mktemp("keras-home")
    os.environ["KERAS_HOME"] = str(home)
    return home


@pytest.fixture
def server(tmp_path: Path, keras_home: Path):
    """A real service on a free loopback port with a home of its own; stopped after the test."""
    live = LiveServer(tmp_path / "home").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, keras_home: Path):
    """One warm service for a module of tests that only add sessions (saves the worker start)."""
    live = LiveServer(tmp_path_factory.mktemp("shared-home")).start(wait_worker=True,
                                                                    timeout=180)
    yield live
    live.stop()


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_FIRST_SERVER] = len(LiveServer.started)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failing test shows the end of the log of every live service it used (its fixtures' and
    those it started itself): a failure seen only in CI can then be understood from CI's output
    alone."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    used = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, LiveServer)]
    used += LiveServer.started[item.stash.get(_FIRST_SERVER, len(LiveServer.started)):]
    for live in dict.fromkeys(used):
        if live.log_path.exists():
            report.sections.append((f"service log {live.log_path} (last 4000 characters)",
                                    live.log_path.read_text(errors="replace")[-4000:]))
