"""One service per home: a second `serve` stops at once naming the first one's address, and the
lock of a service killed with SIGKILL is taken over."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.instance_lock import AlreadyRunning, InstanceLock
from tests.support.live_server import ROOT, LiveServer, free_port


def test_a_second_lock_names_the_holder(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire("http://127.0.0.1:1111/")
    with pytest.raises(AlreadyRunning, match=r"already running .* at http://127.0.0.1:1111/"):
        InstanceLock(tmp_path).acquire("http://127.0.0.1:2222/")
    first.release()
    second = InstanceLock(tmp_path)
    second.acquire("http://127.0.0.1:2222/")  # released: free again
    second.release()


def test_a_lock_file_left_behind_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / "service.lock").write_text(json.dumps({"url": "http://old", "pid": 999999}))
    lock = InstanceLock(tmp_path)
    lock.acquire("http://127.0.0.1:3333/")
    assert json.loads((tmp_path / "service.lock").read_text())["url"] == "http://127.0.0.1:3333/"
    lock.release()


def test_a_second_service_on_one_home_exits_naming_the_first(tmp_path: Path, keras_home: Path):
    home = tmp_path / "home"
    live = LiveServer(home).start()
    try:
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "server", "serve", "--port", str(free_port()), "--home",
             str(home), "--no-browser"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert time.monotonic() - started < 30
        assert f"already running for {home.resolve()} at {live.url}/" in second.stderr
        assert second.stderr.count("\n") == 1, second.stderr  # one sentence, no traceback
        live.kill9()
        live.start()  # the killed service's lock is taken over
        assert live.get("/api/health")["status"] in ("ok", "degraded")
    finally:
        live.stop()
