"""One reader of new events for every live page, however many are open.

Each event stream used to poll SQLite five times a second, so 200 idle pages cost a sixth of a
core. Now the store calls `wake()` after every transaction that stored events (from whichever
thread wrote them); one task on the event loop then reads what is new, once, computes each
affected session's status once, and hands (event, status) to the queue of every stream of that
session. An idle stream waits on its queue and costs nothing. A slow fallback read (every few
seconds) covers a wake-up that could ever be missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.clock import iso
from server.store import Store
from server.store.records import EventRecord

log = logging.getLogger(__name__)

FALLBACK_SECONDS = 5.0
# Every open stream gets a heartbeat this often, so a page notices a stopped service within a few
# seconds (the page allows 4.5 s of silence). One timer here for all streams, not one per stream.
# Every 2 s rather than every second: 200 idle pages then cost about 1 % of a core, not 2 %.
HEARTBEAT_SECONDS = 2.0
QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Delivery:
    event: EventRecord | None  # None: a heartbeat
    frame: bytes = b""  # the encoded text, made once for every stream


StatusOf = Callable[[str], "dict[str, Any] | None"]


def frame(event: EventRecord, status: dict[str, Any] | None) -> bytes:
    """One server-sent event: the stored event and the session's fresh status."""
    data = {"kind": event.kind, **event.payload, "at": iso(event.created_at), "status": status}
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(data)}\n\n".encode()


class Broadcaster:
    def __init__(self, store: Store, status_of: StatusOf,
                 now: Callable[[], float] | None = None) -> None:
        self.store = store
        self.status_of = status_of
        self.now = now or time.time
        self._subscribers: dict[str, set[asyncio.Queue[Delivery | None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_id = 0
        self.reads = 0  # how many times the store was read for new events (one per batch)
        store.listeners.append(self.wake)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._last_id = await asyncio.to_thread(self.store.last_event_id)
        self._task = asyncio.create_task(self._run(), name="event-broadcaster")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._end_all()

    def hang_up(self) -> None:
        """End every open stream now, from any thread (a stop was asked for): each page sees its
        stream close at once and says that the service stopped, instead of waiting for the
        process to exit."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._end_all)

    def _queues(self) -> list[asyncio.Queue[Delivery | None]]:
        """Every open stream's queue, whichever session it follows."""
        return [queue for queues in self._subscribers.values() for queue in queues]

    def _put_all(self, item: Delivery | None) -> None:
        """The item to every stream; a stream whose queue is full misses it (a stalled page)."""
        for queue in self._queues():
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(item)

    def _end_all(self) -> None:
        """The end reaches every stream, even one whose page stalled until its queue filled
        (then its oldest item makes room): a stop must never fail on a stalled page."""
        for queue in self._queues():
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(None)

    def wake(self) -> None:
        """Called by the store from any thread after events were committed."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @property
    def subscribers(self) -> int:
        return sum(len(q) for q in self._subscribers.values())

    def subscribe(self, session_id: str) -> asyncio.Queue[Delivery | None]:
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.setdefault(session_id, set()).add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[Delivery | None]) -> None:
        queues = self._subscribers.get(session_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[session_id]

    async def _run(self) -> None:
        assert self._wake is not None and self._loop is not None
        next_read = self._loop.time() + FALLBACK_SECONDS
        while True:
            woken = False
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), HEARTBEAT_SECONDS)
                woken = True
            self._wake.clear()
            if not woken:
                self._heartbeat()
                if self._loop.time() < next_read:
                    continue
            next_read = self._loop.time() + FALLBACK_SECONDS
            try:
                await self._deliver()
            except Exception:  # a locked database now must not end live updates for good
                log.exception("reading new events failed; trying again")
                await asyncio.sleep(0.5)

    def _heartbeat(self) -> None:
        at = json.dumps({"at": iso(self.now())})
        self._put_all(Delivery(None, f"event: heartbeat\ndata: {at}\n\n".encode()))

    async def _deliver(self) -> None:
        while True:
            batch = await asyncio.to_thread(self.store.events_since, self._last_id)
            self.reads += 1
            if not batch:
                return
            self._last_id = batch[-1].id
            wanted = {e.session_id for e in batch if self._subscribers.get(e.session_id)}
            statuses = {sid: await asyncio.to_thread(self.status_of, sid) for sid in wanted}
            for event in batch:
                queues = list(self._subscribers.get(event.session_id, ()))
                if not queues:
                    continue
                # Serialised once for every stream of the session, not once per stream.
                delivery = Delivery(event, frame(event, statuses.get(event.session_id)))
                for queue in queues:
                    try:
                        queue.put_nowait(delivery)
                    except asyncio.QueueFull:
                        # A stream that stopped reading: end it; its page reconnects with
                        # Last-Event-ID and replays from the store.
                        while not queue.empty():
                            queue.get_nowait()
                        queue.put_nowait(None)
