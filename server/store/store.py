"""Every read and write the service makes, named by what it means for an exam.

Writes that must be seen together (a state change and its event) happen in one transaction: the
store is the record, and an event exists only for what is already stored.

The statements are SQLAlchemy Core, so one text serves SQLite and PostgreSQL. Two things differ
by database and are handled here:
- **Event order with many writers.** Live pages read "events after the last id seen". With
  PostgreSQL several processes write at once, and ids are handed out when a row is inserted, not
  when its transaction commits: a reader could see id 12 before 11 commits and then skip 11 for
  good. So each event is inserted under a transaction-level advisory lock (always the last
  statement of its transaction): events commit in id order. SQLite has one writer at a time.
- **Live updates across processes.** With PostgreSQL an event's transaction also sends
  `NOTIFY tfexam_events` (delivered at commit), which `server.store.notify` turns into the same
  wake-up the in-process listeners get.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from server.clock import Stamp
from server.store.database import Database
from server.store.notify import EventListener
from server.store.records import (
    EventRecord,
    QuestionRecord,
    ResultRecord,
    SessionRecord,
    SubmissionRecord,
)
from server.store.tables import events, results, service_runs, session_questions, sessions, submissions
from server.store.unrecorded import UnrecordedSaves
from server.vocabulary import PENDING_STATES, ResultStatus, SubmissionState

EVENT_CHANNEL = "tfexam_events"
# Any constant of our own: the key of PostgreSQL's advisory lock that orders event commits.
EVENT_LOCK = 0x7F_E7A3_0002


def _event(conn: Connection, session_id: str, kind: str, payload: dict, now: float) -> int:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOCK})
    event_id = conn.execute(
        sa.insert(events).values(session_id=session_id, kind=kind,
                                 payload_json=json.dumps(payload), created_at=now)
        .returning(events.c.id)).scalar_one()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, :id)"),
                     {"channel": EVENT_CHANNEL, "id": str(event_id)})
    return int(event_id)


def _mapping(row: sa.Row | None) -> dict[str, Any] | None:
    return None if row is None else dict(row._mapping)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Called after a transaction that stored events has committed (the live pages' broadcaster
        # wakes on it instead of polling), and, with PostgreSQL, when another process stored one.
        self.listeners: list[Callable[[], None]] = []
        # Saves that could not be recorded (a full home), held in memory until they can be.
        self.unrecorded = UnrecordedSaves()

    def listen_to_other_processes(self) -> EventListener | None:
        """With PostgreSQL, wake the listeners for events other processes store too (started
        here; the caller stops it). SQLite has one writing process: nothing to listen to."""
        if self.db.is_sqlite:
            return None
        return EventListener(self.db.url, EVENT_CHANNEL, self._announce).start()

    def _announce(self) -> None:
        for listener in self.listeners:
            listener()

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that can say ON CONFLICT in this database's dialect."""
        return (postgresql.insert(table) if self.db.dialect == "postgresql"
                else sqlite.insert(table))

    # the service's heartbeat ------------------------------------------------------------------
    def high_water(self) -> float | None:
        """The latest time the service is known to have seen: no clock may start before it."""
        latest = sa.union_all(sa.select(sa.func.max(service_runs.c.last_seen).label("t")),
                              sa.select(sa.func.max(events.c.created_at).label("t"))).subquery()
        row = self.db.query_one(sa.select(sa.func.max(latest.c.t)))
        return float(row[0]) if row and row[0] is not None else None

    def last_stamp(self) -> Stamp | None:
        """The latest run's last heartbeat, with the boot and uptime it was taken in."""
        r = service_runs.c
        row = self.db.query_one(sa.select(r.last_seen, r.boot_id, r.boottime)
                                .order_by(r.last_seen.desc(), r.id.desc()).limit(1))
        if row is None:
            return None
        return Stamp(float(row[0]), row[1], None if row[2] is None else float(row[2]))

    def begin_run(self, pid: int, stamp: Stamp) -> tuple[int, float | None]:
        """Record that the service is up from `stamp`; returns (run id, when the last run was
        last seen alive), the start of the downtime that this start ends."""
        with self.db.transaction() as conn:
            last = conn.execute(sa.select(sa.func.max(service_runs.c.last_seen))).scalar()
            run_id = conn.execute(
                sa.insert(service_runs).values(pid=pid, started_at=stamp.now, last_seen=stamp.now,
                                               boot_id=stamp.boot_id, boottime=stamp.boottime)
                .returning(service_runs.c.id)).scalar_one()
        return int(run_id), (float(last) if last is not None else None)

    def heartbeat(self, run_id: int, stamp: Stamp) -> None:
        """The trusted time, boot and uptime of one instant, stored together (never backwards)."""
        with self.db.transaction() as conn:
            conn.execute(
                sa.update(service_runs)
                .where(service_runs.c.id == run_id, service_runs.c.last_seen <= stamp.now)
                .values(last_seen=stamp.now, boot_id=stamp.boot_id, boottime=stamp.boottime))

    # sessions ---------------------------------------------------------------------------------
    def create_session(
        self, session: SessionRecord, questions: Iterable[QuestionRecord], now: float
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(sa.insert(sessions).values(**session.__dict__))
            rows = [
                {"session_id": q.session_id, "question_id": q.question_id,
                 "position": q.position, "title": q.title, "weight": q.weight,
                 "model_file": q.model_file, "variant_json": json.dumps(q.variant),
                 "data_json": json.dumps(q.data), "heldout_path": q.heldout_path,
                 "waiting_since": q.waiting_since}
                for q in questions]
            if rows:
                conn.execute(sa.insert(session_questions), rows)
            _event(conn, session.id, "session.started", {"deadline": session.deadline}, now)
        self._announce()

    def session(self, session_id: str) -> SessionRecord | None:
        row = _mapping(self.db.query_one(sa.select(sessions).where(sessions.c.id == session_id)))
        return SessionRecord.from_row(row) if row else None

    def sessions(self, state: str | None = None) -> list[SessionRecord]:
        query = sa.select(sessions).order_by(sessions.c.started_at.desc())
        if state:
            query = query.where(sessions.c.state == state)
        return [SessionRecord.from_row(r._mapping) for r in self.db.query(query)]

    def expired_sessions(self, now: float) -> list[SessionRecord]:
        query = (sa.select(sessions)
                 .where(sessions.c.state == "running", sessions.c.deadline <= now)
                 .order_by(sessions.c.deadline))
        return [SessionRecord.from_row(r._mapping) for r in self.db.query(query)]

    def mark_submitted(self, session_id: str, reason: str, now: float) -> bool:
        """True only for the call that moved the session; finishing twice is harmless."""
        with self.db.transaction() as conn:
            moved = conn.execute(
                sa.update(sessions)
                .where(sessions.c.id == session_id, sessions.c.state == "running")
                .values(state="submitted", submitted_at=now, submit_reason=reason)).rowcount
            if moved != 1:
                return False
            _event(conn, session_id, "session.submitted", {"reason": reason}, now)
        self._announce()
        return True

    # questions --------------------------------------------------------------------------------
    def questions(self, session_id: str) -> list[QuestionRecord]:
        query = (sa.select(session_questions).where(session_questions.c.session_id == session_id)
                 .order_by(session_questions.c.position))
        return [QuestionRecord.from_row(r._mapping) for r in self.db.query(query)]

    def question(self, session_id: str, question_id: str) -> QuestionRecord | None:
        row = _mapping(self.db.query_one(
            sa.select(session_questions).where(session_questions.c.session_id == session_id,
                                               session_questions.c.question_id == question_id)))
        return QuestionRecord.from_row(row) if row else None

    def set_waiting(self, session_id: str, question_id: str, since: float | None) -> None:
        """A file is being written (since) or no longer is (None); only a change is announced."""
        sq = session_questions
        changed = sq.c.waiting_since.is_not(None) if since is None else sq.c.waiting_since.is_(None)
        with self.db.transaction() as conn:
            moved = conn.execute(
                sa.update(sq).where(sq.c.session_id == session_id, sq.c.question_id == question_id,
                                    changed)
                .values(waiting_since=since)).rowcount
            announced = bool(moved and since is not None)
            if announced:
                _event(conn, session_id, "question.waiting", {"question": question_id},
                       since)  # type: ignore[arg-type]
        if announced:
            self._announce()

    def set_late_note(self, session_id: str, question_id: str, note: str | None) -> None:
        """Why a file found after a downtime does not count (shown in the status and report)."""
        sq = session_questions
        with self.db.transaction() as conn:
            conn.execute(sa.update(sq).where(sq.c.session_id == session_id,
                                             sq.c.question_id == question_id)
                         .values(late_note=note))

    # submissions and the grading queue ----------------------------------------------------------
    def add_submission(self, sub: SubmissionRecord, now: float) -> SubmissionRecord:
        """Queue a new model file; an older one of the same question still waiting is replaced,
        and points to this one (its waiters follow the successor)."""
        s = submissions
        same_question = (s.c.session_id == sub.session_id, s.c.question_id == sub.question_id)
        with self.db.transaction() as conn:
            values = dict(sub.__dict__)
            values.pop("id")
            values.pop("superseded_by", None)
            values.pop("published_at", None)
            new_id = int(conn.execute(sa.insert(s).values(**values).returning(s.c.id)).scalar_one())
            superseded = conn.execute(
                sa.update(s).where(*same_question, s.c.state == "queued", s.c.id != new_id)
                .values(state="superseded", superseded_by=new_id)).rowcount
            # Whoever already followed an earlier replacement follows this one too.
            earlier = (sa.select(s.c.id).where(*same_question, s.c.state == "superseded")
                       .scalar_subquery())
            conn.execute(
                sa.update(s).where(*same_question, s.c.state == "superseded",
                                   s.c.superseded_by.in_(earlier))
                .values(superseded_by=new_id))
            conn.execute(
                sa.update(session_questions)
                .where(session_questions.c.session_id == sub.session_id,
                       session_questions.c.question_id == sub.question_id)
                .values(waiting_since=None, late_note=None))
            _event(
                conn, sub.session_id, "submission.queued",
                {"question": sub.question_id, "submission": new_id, "superseded": superseded},
                now,
            )
        self._announce()
        return self.submission(new_id)  # type: ignore[return-value]

    def _latest(self, *where: Any) -> SubmissionRecord | None:
        row = _mapping(self.db.query_one(
            sa.select(submissions).where(*where).order_by(submissions.c.id.desc()).limit(1)))
        return SubmissionRecord.from_row(row) if row else None

    def pending_with_hash(self, session_id: str, question_id: str, sha256: str
                          ) -> SubmissionRecord | None:
        """A submission of this content already queued or grading: a new one joins it."""
        s = submissions
        return self._latest(s.c.session_id == session_id, s.c.question_id == question_id,
                            s.c.sha256 == sha256, s.c.state.in_(("queued", "grading")))

    def successor(self, submission_id: int) -> int | None:
        """The submission whose grading answers for a superseded one (the end of the chain)."""
        seen: set[int] = set()
        current = submission_id
        while current not in seen:
            seen.add(current)
            row = self.db.query_one(sa.select(submissions.c.state, submissions.c.superseded_by)
                                    .where(submissions.c.id == current))
            if row is None or row.state != "superseded" or row.superseded_by is None:
                return None if current == submission_id else current
            current = int(row.superseded_by)
        return current

    def submission(self, submission_id: int) -> SubmissionRecord | None:
        row = _mapping(self.db.query_one(sa.select(submissions)
                                         .where(submissions.c.id == submission_id)))
        return SubmissionRecord.from_row(row) if row else None

    def submissions(self, session_id: str, question_id: str | None = None) -> list[SubmissionRecord]:
        query = sa.select(submissions).where(submissions.c.session_id == session_id)
        if question_id:
            query = query.where(submissions.c.question_id == question_id)
        return [SubmissionRecord.from_row(r._mapping)
                for r in self.db.query(query.order_by(submissions.c.id))]

    def snapshot_paths(self) -> list[str]:
        """Every snapshot any submission refers to (what leftovers must keep)."""
        return [r[0] for r in self.db.query(sa.select(submissions.c.snapshot_path))]

    def latest_submission_with_hash(
        self, session_id: str, question_id: str, sha256: str
    ) -> SubmissionRecord | None:
        s = submissions
        return self._latest(s.c.session_id == session_id, s.c.question_id == question_id,
                            s.c.sha256 == sha256, s.c.state != "superseded")

    def latest_submission(self, session_id: str, question_id: str) -> SubmissionRecord | None:
        s = submissions
        return self._latest(s.c.session_id == session_id, s.c.question_id == question_id,
                            s.c.state != "superseded")

    def claim_next_job(self, now: float) -> SubmissionRecord | None:
        """Oldest queued submission becomes 'grading' atomically: no job is handed out twice."""
        s = submissions
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(s.c.id, s.c.session_id, s.c.question_id).where(s.c.state == "queued")
                .order_by(s.c.id).limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            self._start_grading(conn, row.id, row.session_id, row.question_id, now)
        self._announce()
        return self.submission(row.id)

    def claim(self, submission_id: int, now: float) -> SubmissionRecord | None:
        """This queued submission becomes 'grading' (a worker took its job); None when it is not
        queued any more (superseded, or graded by an earlier delivery of the same job)."""
        s = submissions
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(s.c.id, s.c.session_id, s.c.question_id, s.c.state)
                .where(s.c.id == submission_id).with_for_update()).first()
            if row is None or row.state not in ("queued", "grading"):
                return None
            self._start_grading(conn, row.id, row.session_id, row.question_id, now)
        self._announce()
        return self.submission(submission_id)

    def _start_grading(self, conn: Connection, submission_id: int, session_id: str,
                       question_id: str, now: float) -> None:
        s = submissions
        conn.execute(sa.update(s).where(s.c.id == submission_id)
                     .values(state="grading", attempts=s.c.attempts + 1, grading_started_at=now))
        _event(conn, session_id, "submission.grading",
               {"question": question_id, "submission": submission_id}, now)

    def requeue_interrupted(self) -> list[int]:
        """Jobs that were grading when the service died are graded again (grading_needed)."""
        s = submissions
        with self.db.transaction() as conn:
            ids = [r[0] for r in conn.execute(sa.select(s.c.id).where(s.c.state == "grading")
                                              .order_by(s.c.id))]
            conn.execute(sa.update(s).where(s.c.state == "grading").values(state="queued"))
        return ids

    def requeue(self, submission_id: int, why: str, now: float) -> bool:
        """Queue again a job that is 'grading' but that no grading thread holds any more (its
        thread failed or died): True when it was requeued, False when it had moved on."""
        s = submissions
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(s.c.session_id, s.c.question_id)
                               .where(s.c.id == submission_id, s.c.state == "grading")
                               .with_for_update()).first()
            if row is None:
                return False
            conn.execute(sa.update(s).where(s.c.id == submission_id).values(state="queued"))
            _event(conn, row.session_id, "submission.requeued",
                   {"question": row.question_id, "submission": submission_id, "why": why}, now)
        self._announce()
        return True

    def grading_jobs(self) -> list[SubmissionRecord]:
        """Every submission the record says is being graded now."""
        query = (sa.select(submissions).where(submissions.c.state == "grading")
                 .order_by(submissions.c.id))
        return [SubmissionRecord.from_row(r._mapping) for r in self.db.query(query)]

    def queued(self) -> list[SubmissionRecord]:
        """Every submission waiting for a worker, oldest first."""
        query = (sa.select(submissions).where(submissions.c.state == "queued")
                 .order_by(submissions.c.id))
        return [SubmissionRecord.from_row(r._mapping) for r in self.db.query(query)]

    # classroom mode: the outbox of jobs handed to the broker ----------------------------------
    def to_publish(self, stale_before: float, limit: int = 200) -> list[int]:
        """Submissions whose job must go to the broker: queued and never published (the service
        stopped between storing and publishing), queued though published before `stale_before`
        (its message was lost), or "grading" since before `stale_before` (its worker vanished:
        the lease ran out)."""
        s = submissions
        query = (sa.select(s.c.id).where(sa.or_(
            sa.and_(s.c.state == "queued", s.c.published_at.is_(None)),
            sa.and_(s.c.state == "queued", s.c.published_at < stale_before),
            sa.and_(s.c.state == "grading", s.c.grading_started_at < stale_before,
                    sa.or_(s.c.published_at.is_(None), s.c.published_at < stale_before))))
            .order_by(s.c.id).limit(limit))
        return [int(r[0]) for r in self.db.query(query)]

    def mark_published(self, submission_id: int, now: float) -> None:
        with self.db.transaction() as conn:
            conn.execute(sa.update(submissions).where(submissions.c.id == submission_id)
                         .values(published_at=now))

    def queue_length(self) -> int:
        row = self.db.query_one(sa.select(sa.func.count())
                                .where(submissions.c.state == "queued"))
        return int(row[0]) if row else 0

    def pending_count(self, session_id: str) -> int:
        row = self.db.query_one(
            sa.select(sa.func.count()).where(submissions.c.session_id == session_id,
                                             submissions.c.state.in_(tuple(PENDING_STATES))))
        return int(row[0]) if row else 0

    # results ----------------------------------------------------------------------------------
    def save_result(
        self, submission_id: int, status: str, score: int, payload: dict[str, Any], now: float
    ) -> bool:
        """Result and its announcement in one transaction: stored first, then announced.

        Idempotent: a submission has one result, the first stored. A job graded twice (a worker
        killed after storing, its job delivered again) stores nothing the second time and
        announces nothing; False then."""
        sub = self.submission(submission_id)
        if sub is None:
            raise KeyError(submission_id)
        state = SubmissionState.GRADED if status == ResultStatus.GRADED else SubmissionState.ERROR
        with self.db.transaction() as conn:
            stored = conn.execute(
                self._insert(results).values(
                    submission_id=submission_id, session_id=sub.session_id,
                    question_id=sub.question_id, status=status, score=score,
                    payload_json=json.dumps(payload), created_at=now)
                .on_conflict_do_nothing(index_elements=["submission_id"])
                .returning(results.c.submission_id)).first()
            if stored is None:
                return False
            conn.execute(sa.update(submissions).where(submissions.c.id == submission_id)
                         .values(state=str(state)))
            _event(
                conn, sub.session_id, "result",
                {"question": sub.question_id, "submission": submission_id, "score": score,
                 "status": status, "message": (payload.get("messages") or [""])[0]},
                now,
            )
        self._announce()
        return True

    def result(self, submission_id: int) -> ResultRecord | None:
        row = _mapping(self.db.query_one(sa.select(results)
                                         .where(results.c.submission_id == submission_id)))
        return ResultRecord.from_row(row) if row else None

    def results(self, session_id: str) -> dict[int, ResultRecord]:
        rows = self.db.query(sa.select(results).where(results.c.session_id == session_id))
        return {r.submission_id: ResultRecord.from_row(r._mapping) for r in rows}

    # events -----------------------------------------------------------------------------------
    def add_event(self, session_id: str, kind: str, payload: dict[str, Any], now: float) -> int:
        with self.db.transaction() as conn:
            event_id = _event(conn, session_id, kind, payload, now)
        self._announce()
        return event_id

    def last_event_id(self) -> int:
        row = self.db.query_one(sa.select(sa.func.max(events.c.id)))
        return int(row[0]) if row and row[0] is not None else 0

    def events_since(self, after_id: int, limit: int = 500) -> list[EventRecord]:
        """Every session's events after an id: what the broadcaster fans out."""
        query = sa.select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
        return [EventRecord.from_row(r._mapping) for r in self.db.query(query)]

    def events_after(self, session_id: str, after_id: int, limit: int = 200) -> list[EventRecord]:
        query = (sa.select(events).where(events.c.session_id == session_id, events.c.id > after_id)
                 .order_by(events.c.id).limit(limit))
        return [EventRecord.from_row(r._mapping) for r in self.db.query(query)]
