"""The broadcaster's stop: every stream ends, even one whose page stalled until its queue was full
(about half an hour of heartbeats); the stop itself never fails. A real store on a real SQLite
file; no server needed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.api.broadcast import QUEUE_LIMIT, Broadcaster, Delivery
from server.store import Store
from server.store.database import Database


def test_a_stop_ends_every_stream_even_a_stalled_one(tmp_path: Path) -> None:
    async def scenario() -> tuple[object, object]:
        broadcaster = Broadcaster(Store(Database(tmp_path / "db.sqlite3")), lambda _: None)
        await broadcaster.start()
        stalled = broadcaster.subscribe("s1")
        idle = broadcaster.subscribe("s1")
        for _ in range(QUEUE_LIMIT):
            stalled.put_nowait(Delivery(event=None))
        await broadcaster.stop()
        last = None
        while not stalled.empty():
            last = stalled.get_nowait()
        return last, idle.get_nowait()

    stalled_end, idle_end = asyncio.run(scenario())
    assert stalled_end is None and idle_end is None
