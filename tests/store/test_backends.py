"""What classroom mode needs of the store, on SQLite and PostgreSQL alike: sub-second times, one
result per submission however often it is written, one schema from the migrations, an event order
that holds with many writers, and a learner's existing SQLite home upgraded in place."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from server.store import Database, Store
from server.store.migrate import revisions
from server.store.store import _event
from server.store.tables import metadata
from tests.store.test_store import _session, _submission

LEGACY_SCHEMA = Path(__file__).with_name("legacy_schema_v3.sql")


def test_times_keep_sub_second_precision(open_db: Callable[[], Database]) -> None:
    """PostgreSQL's REAL would round today's epoch seconds to 128 s."""
    store = Store(open_db())
    started = 1_800_000_000.123456
    _session(store, deadline=started + 0.25)
    store.mark_submitted("s1", "learner", started + 0.000_5)
    session = store.session("s1")
    assert abs(session.deadline - (started + 0.25)) < 1e-5
    assert abs(session.submitted_at - (started + 0.000_5)) < 1e-5
    assert store.expired_sessions(started + 0.2) == []  # compared in SQL, to the sub-second


def test_a_result_written_twice_is_stored_and_announced_once(open_db: Callable[[], Database]
                                                            ) -> None:
    store = Store(open_db())
    _session(store)
    sub = _submission(store, "a")
    assert store.save_result(sub.id, "graded", 4, {"messages": ["first"]}, now=5.0) is True
    assert store.save_result(sub.id, "graded", 3, {"messages": ["again"]}, now=6.0) is False
    assert store.result(sub.id).score == 4 and store.result(sub.id).payload["messages"] == ["first"]
    kinds = [e.kind for e in store.events_after("s1", 0)]
    assert kinds.count("result") == 1


def test_the_migrations_make_exactly_the_described_schema(open_db: Callable[[], Database]) -> None:
    db = open_db()
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_a_queued_job_is_claimed_once_by_concurrent_claimers(open_db: Callable[[], Database]
                                                             ) -> None:
    store = Store(open_db())
    for number in range(3):
        _session(store, f"s{number}")
        for sha in ("a", "b", "c"):
            _submission(store, sha, session_id=f"s{number}")  # only "c" stays queued
    claimers = [Store(open_db()) for _ in range(4)]
    claimed: list[int] = []
    lock = threading.Lock()

    def claim(one: Store) -> None:
        while (job := one.claim_next_job(now=2.0)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim, args=(c,)) for c in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 3


def test_events_become_visible_in_id_order_with_many_writers(open_db: Callable[[], Database]
                                                             ) -> None:
    """A reader that follows "events after the last id seen" never sees a later id while an
    earlier one is still to commit (it would skip the earlier one for good)."""
    slow, fast, reader = Store(open_db()), Store(open_db()), Store(open_db())
    _session(slow)
    first_id = reader.last_event_id()
    inserted = threading.Event()

    def slow_writer() -> None:
        with slow.db.transaction() as conn:
            _event(conn, "s1", "slow", {}, 1.0)
            inserted.set()
            time.sleep(0.5)  # its id is taken; its commit comes later (within the lock timeout)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(30)
    other = threading.Thread(target=lambda: fast.add_event("s1", "fast", {}, 2.0))
    other.start()
    seen: list[list[str]] = []
    while writer.is_alive() or other.is_alive():
        seen.append([e.kind for e in reader.events_since(first_id)])
        time.sleep(0.02)
    writer.join()
    other.join()
    seen.append([e.kind for e in reader.events_since(first_id)])
    assert ["fast"] not in seen, "an event became visible before an earlier one committed"
    assert seen[-1] == ["slow", "fast"]


def test_a_home_made_before_alembic_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "tfexam.sqlite3"
    legacy = sqlite3.connect(path)
    legacy.executescript(LEGACY_SCHEMA.read_text())
    legacy.execute("PRAGMA user_version=3")
    legacy.execute(
        "INSERT INTO sessions (id, exam_id, exam_title, project_dir, started_at, deadline, state,"
        " seed, pass_mark, duration_minutes, keras) VALUES ('old', 'smoke', 'Smoke', '/p', 1.5,"
        " 100.5, 'running', 7, 0.9, 10, '3')")
    legacy.commit()
    legacy.close()
    db = Database(path)
    try:
        assert db.schema_version == len(revisions())
        store = Store(db)
        old = store.session("old")
        assert old is not None and old.keras == "3" and old.deadline == 100.5
        _session(store, "new")  # the upgraded database takes new work
        assert {s.id for s in store.sessions()} == {"old", "new"}
    finally:
        db.close()


def test_an_event_stored_by_another_process_wakes_the_listeners(open_db: Callable[[], Database],
                                                               backend: str) -> None:
    """Classroom mode: a worker's result must reach the service's live pages."""
    if backend == "sqlite":
        assert Store(open_db()).listen_to_other_processes() is None  # one process writes
        return
    service, worker = Store(open_db()), Store(open_db())
    _session(worker)
    woken = threading.Event()
    service.listeners.append(woken.set)
    listener = service.listen_to_other_processes()
    try:
        assert listener.connected.wait(30)
        woken.clear()
        worker.add_event("s1", "from-a-worker", {}, 3.0)
        assert woken.wait(30), "no wake-up for another process's event"
        assert listener.notices >= 1
    finally:
        listener.stop()
