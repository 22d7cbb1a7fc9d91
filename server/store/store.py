"""Every read and write the service makes, named by what it means for an exam.

Writes that must be seen together (a state change and its event) happen in one transaction: the
store is the record, and an event exists only for what is already stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from server.clock import Stamp
from server.store.database import Database
from server.store.records import (
    EventRecord,
    QuestionRecord,
    ResultRecord,
    SessionRecord,
    SubmissionRecord,
)
from server.store.unrecorded import UnrecordedSaves
from server.vocabulary import PENDING_STATES, ResultStatus, SubmissionState


def _event(conn: sqlite3.Connection, session_id: str, kind: str, payload: dict, now: float) -> int:
    cursor = conn.execute(
        "INSERT INTO events (session_id, kind, payload_json, created_at) VALUES (?, ?, ?, ?)",
        (session_id, kind, json.dumps(payload), now),
    )
    return int(cursor.lastrowid)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Called after a transaction that stored events has committed (the live pages' broadcaster
        # wakes on it instead of polling).
        self.listeners: list[Callable[[], None]] = []
        # Saves that could not be recorded (a full home), held in memory until they can be.
        self.unrecorded = UnrecordedSaves()

    def _announce(self) -> None:
        for listener in self.listeners:
            listener()

    # the service's heartbeat ------------------------------------------------------------------
    def high_water(self) -> float | None:
        """The latest time the service is known to have seen: no clock may start before it."""
        row = self.db.query_one(
            "SELECT MAX(t) FROM (SELECT MAX(last_seen) AS t FROM service_runs"
            " UNION ALL SELECT MAX(created_at) FROM events)")
        return float(row[0]) if row and row[0] is not None else None

    def last_stamp(self) -> Stamp | None:
        """The latest run's last heartbeat, with the boot and uptime it was taken in."""
        row = self.db.query_one("SELECT last_seen, boot_id, boottime FROM service_runs"
                                " ORDER BY last_seen DESC, id DESC LIMIT 1")
        if row is None:
            return None
        return Stamp(float(row[0]), row[1], None if row[2] is None else float(row[2]))

    def begin_run(self, pid: int, stamp: Stamp) -> tuple[int, float | None]:
        """Record that the service is up from `stamp`; returns (run id, when the last run was
        last seen alive), the start of the downtime that this start ends."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT MAX(last_seen) FROM service_runs").fetchone()
            cursor = conn.execute(
                "INSERT INTO service_runs (pid, started_at, last_seen, boot_id, boottime)"
                " VALUES (?, ?, ?, ?, ?)",
                (pid, stamp.now, stamp.now, stamp.boot_id, stamp.boottime))
        return int(cursor.lastrowid), (float(row[0]) if row and row[0] is not None else None)

    def heartbeat(self, run_id: int, stamp: Stamp) -> None:
        """The trusted time, boot and uptime of one instant, stored together (never backwards)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE service_runs SET last_seen = ?, boot_id = ?, boottime = ?"
                         " WHERE id = ? AND last_seen <= ?",
                         (stamp.now, stamp.boot_id, stamp.boottime, run_id, stamp.now))

    # sessions ---------------------------------------------------------------------------------
    def create_session(
        self, session: SessionRecord, questions: Iterable[QuestionRecord], now: float
    ) -> None:
        with self.db.transaction() as conn:
            columns = list(session.__dict__)
            conn.execute(
                f"INSERT INTO sessions ({', '.join(columns)})"
                f" VALUES ({', '.join(':' + c for c in columns)})",
                session.__dict__,
            )
            for q in questions:
                conn.execute(
                    "INSERT INTO session_questions (session_id, question_id, position, title,"
                    " weight, model_file, variant_json, data_json, heldout_path, waiting_since)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        q.session_id, q.question_id, q.position, q.title, q.weight, q.model_file,
                        json.dumps(q.variant), json.dumps(q.data), q.heldout_path, q.waiting_since,
                    ),
                )
            _event(conn, session.id, "session.started", {"deadline": session.deadline}, now)
        self._announce()

    def session(self, session_id: str) -> SessionRecord | None:
        row = self.db.query_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return SessionRecord.from_row(row) if row else None

    def sessions(self, state: str | None = None) -> list[SessionRecord]:
        if state:
            rows = self.db.query(
                "SELECT * FROM sessions WHERE state = ? ORDER BY started_at DESC", (state,)
            )
        else:
            rows = self.db.query("SELECT * FROM sessions ORDER BY started_at DESC")
        return [SessionRecord.from_row(r) for r in rows]

    def expired_sessions(self, now: float) -> list[SessionRecord]:
        rows = self.db.query(
            "SELECT * FROM sessions WHERE state = 'running' AND deadline <= ? ORDER BY deadline",
            (now,),
        )
        return [SessionRecord.from_row(r) for r in rows]

    def mark_submitted(self, session_id: str, reason: str, now: float) -> bool:
        """True only for the call that moved the session; finishing twice is harmless."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET state = 'submitted', submitted_at = ?, submit_reason = ?"
                " WHERE id = ? AND state = 'running'",
                (now, reason, session_id),
            )
            if cursor.rowcount != 1:
                return False
            _event(conn, session_id, "session.submitted", {"reason": reason}, now)
        self._announce()
        return True

    # questions --------------------------------------------------------------------------------
    def questions(self, session_id: str) -> list[QuestionRecord]:
        rows = self.db.query(
            "SELECT * FROM session_questions WHERE session_id = ? ORDER BY position", (session_id,)
        )
        return [QuestionRecord.from_row(r) for r in rows]

    def question(self, session_id: str, question_id: str) -> QuestionRecord | None:
        row = self.db.query_one(
            "SELECT * FROM session_questions WHERE session_id = ? AND question_id = ?",
            (session_id, question_id),
        )
        return QuestionRecord.from_row(row) if row else None

    def set_waiting(self, session_id: str, question_id: str, since: float | None) -> None:
        """A file is being written (since) or no longer is (None); only a change is announced."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE session_questions SET waiting_since = ? WHERE session_id = ?"
                " AND question_id = ? AND (waiting_since IS NULL) != (? IS NULL)",
                (since, session_id, question_id, since),
            )
            announced = bool(cursor.rowcount and since is not None)
            if announced:
                _event(conn, session_id, "question.waiting", {"question": question_id}, since)
        if announced:
            self._announce()

    def set_late_note(self, session_id: str, question_id: str, note: str | None) -> None:
        """Why a file found after a downtime does not count (shown in the status and report)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE session_questions SET late_note = ? WHERE session_id = ?"
                         " AND question_id = ?", (note, session_id, question_id))

    # submissions and the grading queue ----------------------------------------------------------
    def add_submission(self, sub: SubmissionRecord, now: float) -> SubmissionRecord:
        """Queue a new model file; an older one of the same question still waiting is replaced,
        and points to this one (its waiters follow the successor)."""
        with self.db.transaction() as conn:
            values = dict(sub.__dict__)
            values.pop("id")
            values.pop("superseded_by", None)
            cursor = conn.execute(
                "INSERT INTO submissions (session_id, question_id, source_path, snapshot_path,"
                " sha256, format, size_bytes, saved_at, detected_at, trigger, state, attempts,"
                " grading_started_at) VALUES (:session_id, :question_id, :source_path,"
                " :snapshot_path, :sha256, :format, :size_bytes, :saved_at, :detected_at,"
                " :trigger, :state, :attempts, :grading_started_at)",
                values,
            )
            new_id = int(cursor.lastrowid)
            superseded = conn.execute(
                "UPDATE submissions SET state = 'superseded', superseded_by = ? WHERE session_id = ?"
                " AND question_id = ? AND state = 'queued' AND id != ?",
                (new_id, sub.session_id, sub.question_id, new_id),
            ).rowcount
            # Whoever already followed an earlier replacement follows this one too.
            conn.execute(
                "UPDATE submissions SET superseded_by = ? WHERE session_id = ? AND question_id = ?"
                " AND state = 'superseded' AND superseded_by IN (SELECT id FROM submissions"
                " WHERE state = 'superseded' AND session_id = ? AND question_id = ?)",
                (new_id, sub.session_id, sub.question_id, sub.session_id, sub.question_id),
            )
            conn.execute(
                "UPDATE session_questions SET waiting_since = NULL, late_note = NULL"
                " WHERE session_id = ? AND question_id = ?",
                (sub.session_id, sub.question_id),
            )
            _event(
                conn, sub.session_id, "submission.queued",
                {"question": sub.question_id, "submission": new_id, "superseded": superseded},
                now,
            )
        self._announce()
        return self.submission(new_id)  # type: ignore[return-value]

    def pending_with_hash(self, session_id: str, question_id: str, sha256: str
                          ) -> SubmissionRecord | None:
        """A submission of this content already queued or grading: a new one joins it."""
        row = self.db.query_one(
            "SELECT * FROM submissions WHERE session_id = ? AND question_id = ? AND sha256 = ?"
            " AND state IN ('queued', 'grading') ORDER BY id DESC LIMIT 1",
            (session_id, question_id, sha256),
        )
        return SubmissionRecord.from_row(row) if row else None

    def successor(self, submission_id: int) -> int | None:
        """The submission whose grading answers for a superseded one (the end of the chain)."""
        seen: set[int] = set()
        current = submission_id
        while current not in seen:
            seen.add(current)
            row = self.db.query_one("SELECT state, superseded_by FROM submissions WHERE id = ?",
                                    (current,))
            if row is None or row["state"] != "superseded" or row["superseded_by"] is None:
                return None if current == submission_id else current
            current = int(row["superseded_by"])
        return current

    def submission(self, submission_id: int) -> SubmissionRecord | None:
        row = self.db.query_one("SELECT * FROM submissions WHERE id = ?", (submission_id,))
        return SubmissionRecord.from_row(row) if row else None

    def submissions(self, session_id: str, question_id: str | None = None) -> list[SubmissionRecord]:
        sql = "SELECT * FROM submissions WHERE session_id = ?"
        params: tuple[Any, ...] = (session_id,)
        if question_id:
            sql += " AND question_id = ?"
            params += (question_id,)
        return [SubmissionRecord.from_row(r) for r in self.db.query(sql + " ORDER BY id", params)]

    def latest_submission_with_hash(
        self, session_id: str, question_id: str, sha256: str
    ) -> SubmissionRecord | None:
        row = self.db.query_one(
            "SELECT * FROM submissions WHERE session_id = ? AND question_id = ? AND sha256 = ?"
            " AND state != 'superseded' ORDER BY id DESC LIMIT 1",
            (session_id, question_id, sha256),
        )
        return SubmissionRecord.from_row(row) if row else None

    def latest_submission(self, session_id: str, question_id: str) -> SubmissionRecord | None:
        row = self.db.query_one(
            "SELECT * FROM submissions WHERE session_id = ? AND question_id = ?"
            " AND state != 'superseded' ORDER BY id DESC LIMIT 1",
            (session_id, question_id),
        )
        return SubmissionRecord.from_row(row) if row else None

    def claim_next_job(self, now: float) -> SubmissionRecord | None:
        """Oldest queued submission becomes 'grading' atomically: no job is handed out twice."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM submissions WHERE state = 'queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE submissions SET state = 'grading', attempts = attempts + 1,"
                " grading_started_at = ? WHERE id = ?",
                (now, row["id"]),
            )
            _event(
                conn, row["session_id"], "submission.grading",
                {"question": row["question_id"], "submission": row["id"]}, now,
            )
        self._announce()
        return self.submission(row["id"])

    def requeue_interrupted(self) -> list[int]:
        """Jobs that were grading when the service died are graded again (grading_needed)."""
        with self.db.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM submissions WHERE state = 'grading'")]
            conn.execute("UPDATE submissions SET state = 'queued' WHERE state = 'grading'")
        return ids

    def requeue(self, submission_id: int, why: str, now: float) -> bool:
        """Queue again a job that is 'grading' but that no grading thread holds any more (its
        thread failed or died): True when it was requeued, False when it had moved on."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT session_id, question_id FROM submissions WHERE id = ?"
                               " AND state = 'grading'", (submission_id,)).fetchone()
            if row is None:
                return False
            conn.execute("UPDATE submissions SET state = 'queued' WHERE id = ?",
                         (submission_id,))
            _event(conn, row["session_id"], "submission.requeued",
                   {"question": row["question_id"], "submission": submission_id, "why": why},
                   now)
        self._announce()
        return True

    def grading_jobs(self) -> list[SubmissionRecord]:
        """Every submission the record says is being graded now."""
        rows = self.db.query("SELECT * FROM submissions WHERE state = 'grading' ORDER BY id")
        return [SubmissionRecord.from_row(r) for r in rows]

    def queue_length(self) -> int:
        row = self.db.query_one("SELECT COUNT(*) FROM submissions WHERE state = 'queued'")
        return int(row[0]) if row else 0

    def pending_count(self, session_id: str) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) FROM submissions WHERE session_id = ? AND state IN (?, ?)",
            (session_id, *PENDING_STATES),
        )
        return int(row[0]) if row else 0

    # results ----------------------------------------------------------------------------------
    def save_result(
        self, submission_id: int, status: str, score: int, payload: dict[str, Any], now: float
    ) -> None:
        """Result and its announcement in one transaction: stored first, then announced."""
        sub = self.submission(submission_id)
        if sub is None:
            raise KeyError(submission_id)
        state = SubmissionState.GRADED if status == ResultStatus.GRADED else SubmissionState.ERROR
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (submission_id, sub.session_id, sub.question_id, status, score,
                 json.dumps(payload), now),
            )
            conn.execute("UPDATE submissions SET state = ? WHERE id = ?", (state, submission_id))
            _event(
                conn, sub.session_id, "result",
                {"question": sub.question_id, "submission": submission_id, "score": score,
                 "status": status, "message": (payload.get("messages") or [""])[0]},
                now,
            )
        self._announce()

    def result(self, submission_id: int) -> ResultRecord | None:
        row = self.db.query_one("SELECT * FROM results WHERE submission_id = ?", (submission_id,))
        return ResultRecord.from_row(row) if row else None

    def results(self, session_id: str) -> dict[int, ResultRecord]:
        rows = self.db.query("SELECT * FROM results WHERE session_id = ?", (session_id,))
        return {r["submission_id"]: ResultRecord.from_row(r) for r in rows}

    # events -----------------------------------------------------------------------------------
    def add_event(self, session_id: str, kind: str, payload: dict[str, Any], now: float) -> int:
        with self.db.transaction() as conn:
            event_id = _event(conn, session_id, kind, payload, now)
        self._announce()
        return event_id

    def last_event_id(self) -> int:
        row = self.db.query_one("SELECT MAX(id) FROM events")
        return int(row[0]) if row and row[0] is not None else 0

    def events_since(self, after_id: int, limit: int = 500) -> list[EventRecord]:
        """Every session's events after an id: what the broadcaster fans out."""
        rows = self.db.query("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?",
                             (after_id, limit))
        return [EventRecord.from_row(r) for r in rows]

    def events_after(self, session_id: str, after_id: int, limit: int = 200) -> list[EventRecord]:
        rows = self.db.query(
            "SELECT * FROM events WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
            (session_id, after_id, limit),
        )
        return [EventRecord.from_row(r) for r in rows]
