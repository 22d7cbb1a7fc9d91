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


HOLDER = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"url": "http://127.0.0.1:4444/", "pid": os.getpid()}).encode())
print("held", flush=True)
time.sleep(600)
"""


def test_a_lock_held_by_another_process_is_taken_over_once_it_is_killed(tmp_path: Path) -> None:
    """Another process holds the lock (as a running service does): it is named, and nothing
    here takes it. Killed with SIGKILL, it leaves its file and address behind, and the kernel's
    release of the flock is what lets the next service in (no pid check, no stale file)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "service.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning, match=rf"at http://127.0.0.1:4444/ \(process "
                                                 rf"{holder.pid}\)"):
            InstanceLock(tmp_path).acquire("http://127.0.0.1:3333/")
    finally:
        holder.kill()
        holder.wait()
    assert json.loads((tmp_path / "service.lock").read_text())["pid"] == holder.pid  # left behind
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
        assert time.monotonic() - started < 10  # at once: measured about 2 s (interpreter start)
        assert f"already running for {home.resolve()} at {live.url}/" in second.stderr
        assert second.stderr.count("\n") == 1, second.stderr  # one sentence, no traceback
        live.kill9()
        live.start()  # the killed service's lock is taken over
        assert live.get("/api/health")["status"] in ("ok", "degraded")
    finally:
        live.stop()
