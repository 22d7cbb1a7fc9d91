"""One reader for every live page: many open streams all get a new event promptly, and while
nothing happens the store is not read (no stream polls)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from tests.support.live_server import LiveServer

STREAMS = 40


def test_many_streams_share_one_reader(server: LiveServer, tmp_path: Path) -> None:
    started = server.start_session(tmp_path / "ws", minutes=10)
    session = started["session"]
    opened = threading.Barrier(STREAMS + 1, timeout=60)
    got: dict[int, float] = {}
    lock = threading.Lock()

    def follow(index: int) -> None:
        with httpx.stream("GET", f"{server.url}/api/sessions/{session}/events?after=1000000000",
                          headers=server.headers, timeout=httpx.Timeout(10, read=20)) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            opened.wait()
            for line in lines:
                if line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    if data.get("kind") == "session.submitted":
                        with lock:
                            got[index] = time.monotonic()
                        return

    threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(STREAMS)]
    for thread in threads:
        thread.start()
    opened.wait()
    health = server.wait_for_health(lambda h: h["streams"]["open"] >= STREAMS, timeout=30)
    reads = health["streams"]["store_reads"]
    time.sleep(2.0)  # idle: nothing is read while nothing happens
    assert server.get("/api/health")["streams"]["store_reads"] - reads <= 1

    sent = time.monotonic()
    assert server.post(f"/api/sessions/{session}/finish").status_code == 200
    for thread in threads:
        thread.join(timeout=30)
    assert len(got) == STREAMS
    assert max(got.values()) - sent < 2.0  # generous here; tests/bench/bench_events.py measures
    assert server.get("/api/health")["streams"]["store_reads"] - reads <= 4
