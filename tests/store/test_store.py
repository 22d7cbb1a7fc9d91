"""The store: migrations, an atomic queue, results stored before they are announced; on SQLite
and on PostgreSQL alike (tests/store/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from server.store import Database, Store
from server.store.migrate import revisions
from server.store.records import QuestionRecord, SessionRecord, SubmissionRecord


def _session(store: Store, session_id: str = "s1", deadline: float = 100.0) -> None:
    store.create_session(
        SessionRecord(session_id, "smoke", "Smoke", "/tmp/p", 0.0, deadline, "running", None, None,
                      1, 0.9, 10),
        [QuestionRecord(session_id, "Q1", 0, "t", 1.0, "mymodel.h5", {"title": "v"}, {}, "/h", None)],
        now=0.0,
    )


def _submission(store: Store, sha: str, session_id: str = "s1") -> SubmissionRecord:
    return store.add_submission(
        SubmissionRecord(0, session_id, "Q1", "/p/Q1/mymodel.h5", "/snap", sha, "h5", 10, 1.0, 1.0,
                         "save", "queued", 0, None),
        now=1.0,
    )


def test_schema_is_versioned_and_reopening_is_idempotent(open_db: Callable[[], Database],
                                                         backend: str) -> None:
    assert open_db().schema_version == len(revisions())
    db = open_db()
    assert db.schema_version == len(revisions())
    if backend == "sqlite":
        assert db.query_one("PRAGMA journal_mode")[0] == "wal"


def test_newer_save_replaces_one_still_queued(open_db: Callable[[], Database]) -> None:
    store = Store(open_db())
    _session(store)
    first = _submission(store, "a")
    second = _submission(store, "b")
    assert store.submission(first.id).state == "superseded"
    assert store.queue_length() == 1
    claimed = store.claim_next_job(now=2.0)
    assert claimed.id == second.id and claimed.state == "grading" and claimed.attempts == 1
    assert store.claim_next_job(now=2.0) is None


def test_interrupted_job_is_queued_again(open_db: Callable[[], Database]) -> None:
    store = Store(open_db())
    _session(store)
    sub = _submission(store, "a")
    store.claim_next_job(now=2.0)
    reopened = Store(open_db())  # as after a crash
    assert reopened.requeue_interrupted() == [sub.id]
    assert reopened.claim_next_job(now=3.0).attempts == 2


def test_result_is_stored_with_its_event(open_db: Callable[[], Database]) -> None:
    store = Store(open_db())
    _session(store)
    sub = _submission(store, "a")
    store.save_result(sub.id, "graded", 4, {"messages": ["Score 4/5"]}, now=5.0)
    assert store.result(sub.id).score == 4
    kinds = [e.kind for e in store.events_after("s1", 0)]
    assert kinds == ["session.started", "submission.queued", "result"]


def test_finishing_twice_moves_the_session_once(open_db: Callable[[], Database]) -> None:
    store = Store(open_db())
    _session(store)
    assert store.mark_submitted("s1", "learner", 3.0) is True
    assert store.mark_submitted("s1", "learner", 4.0) is False
    assert store.session("s1").submitted_at == 3.0
