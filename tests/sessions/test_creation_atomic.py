"""All or nothing: a session creation killed with SIGKILL at any moment leaves either a whole
session or, after the next start-up, nothing at all (no half-made project, no orphan held-out)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.services import Services
from server.sessions.service import UnknownExam
from tests.support.live_server import ROOT

CREATE = """
import sys
from server.config import Settings
from server.services import Services
from server.sessions.service import UnknownExam
services = Services(Settings.from_env(home=sys.argv[1], start_worker=False))
print("ready", flush=True)
sys.stdin.readline()
services.sessions.create("smoke", sys.argv[2], minutes=10)
print("created", flush=True)
"""


def _creation_seconds(tmp_path: Path) -> float:
    """How long one uncut creation takes here, from "go" to "created"."""
    child = subprocess.Popen([sys.executable, "-c", CREATE, str(tmp_path / "h"),
                              str(tmp_path / "w")], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    child.stdout.readline()
    began = time.monotonic()
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "created"
    took = time.monotonic() - began
    child.wait(timeout=10)
    return took


def test_a_creation_killed_at_any_moment_is_whole_or_gone(tmp_path: Path) -> None:
    rng = random.Random(11)
    took = _creation_seconds(tmp_path / "timing")
    outcomes = []
    for round_ in range(8):
        home, workspace = tmp_path / f"home{round_}", tmp_path / f"ws{round_}"
        child = subprocess.Popen([sys.executable, "-c", CREATE, str(home), str(workspace)],
                                 cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(took * (round_ + rng.random()) / 8)  # spread over the whole creation
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

        services = Services(Settings.from_env(home=home, start_worker=False), ManualClock())
        try:
            services.start()
            sessions = services.store.sessions()
            partials = [p for p in tmp_path.glob(f".ws{round_}.tfexam-*")]
            assert partials == [], partials
            assert not (home / "creating").exists() or list((home / "creating").iterdir()) == []
            held = sorted(p.name for p in (home / "sessions").iterdir()) if (
                home / "sessions").exists() else []
            if sessions:
                (session,) = sessions
                assert held == [session.id]
                marker = json.loads((workspace / ".tfexam" / "session.json").read_text())
                assert marker["session"] == session.id
                assert (workspace / "Q2" / "data" / "train.csv").is_file()
                outcomes.append("whole")
            else:
                assert held == [], held
                assert not workspace.exists() or list(workspace.iterdir()) == []
                outcomes.append("gone")
        finally:
            services.stop()
    print(f"creation took {took:.3f} s; killed rounds: {outcomes}")
    assert "gone" in outcomes  # some kills did land inside the creation


def test_an_empty_chosen_folder_is_kept_when_creation_fails(tmp_path: Path) -> None:
    services = Services(Settings.from_env(home=tmp_path / "home", start_worker=False),
                        ManualClock())
    try:
        empty = tmp_path / "empty"
        empty.mkdir()
        with pytest.raises(UnknownExam):
            services.sessions.create("no-such-exam", str(empty))
        assert empty.is_dir() and list(empty.iterdir()) == []
        session = services.sessions.create("smoke", str(empty), minutes=5)
        assert Path(session.project_dir) == empty.resolve()
        assert (empty / "Q1" / "starter.py").is_file()
        assert list(tmp_path.glob(".empty.tfexam-*")) == []
    finally:
        services.stop()
