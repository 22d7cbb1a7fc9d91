"""`tfexam serve` prints its address first, before the seconds spent loading the service and
opening the database, says what it is doing meanwhile, and says when it answers."""

from __future__ import annotations

from pathlib import Path

from tests.support.live_server import LiveServer


def test_the_address_comes_first_then_each_step_then_ready(tmp_path: Path, keras_home: Path) -> None:
    live = LiveServer(tmp_path / "home").start()
    try:
        lines = [line for line in live.log_path.read_text().splitlines()
                 if line.startswith("tfexam: ")]
    finally:
        live.stop()
    assert lines[0] == f"tfexam: serving {live.url}/ (state in {live.home})"
    steps = [line.split(":")[1].strip() for line in lines[1:4]]
    assert steps == ["starting", "starting", "ready"], lines
    assert "loading the service" in lines[1] and "opening the database" in lines[2]
    assert lines[3].startswith(f"tfexam: ready: open {live.url}/?code="), lines
    assert live.token not in live.log_path.read_text()
