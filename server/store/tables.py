"""The store's tables as SQLAlchemy Core objects: one description for SQLite and PostgreSQL.

Times are epoch seconds in double precision (`Double`: SQLite's 8-byte REAL, PostgreSQL's
`DOUBLE PRECISION`), so deadlines compare in SQL without parsing and keep sub-second precision on
both. PostgreSQL's `REAL` is 4 bytes: it would round today's epoch seconds to 128 s.

This module describes the schema at its newest revision; the migrations in `migrations/versions`
build it step by step and are what creates and upgrades a database.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Time = sa.Double

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("exam_id", sa.Text, nullable=False),
    sa.Column("exam_title", sa.Text, nullable=False),
    sa.Column("project_dir", sa.Text, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("deadline", Time, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("submitted_at", Time),
    sa.Column("submit_reason", sa.Text),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("pass_mark", sa.Double, nullable=False),
    sa.Column("duration_minutes", sa.Double, nullable=False),
    sa.Column("keras", sa.Text, nullable=False, server_default="2"),
    sa.CheckConstraint("state IN ('running', 'submitted')", name="sessions_state"),
    sa.Index("sessions_running", "state", "deadline"),
)

session_questions = sa.Table(
    "session_questions", metadata,
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), primary_key=True),
    sa.Column("question_id", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("weight", sa.Double, nullable=False),
    sa.Column("model_file", sa.Text, nullable=False),
    sa.Column("variant_json", sa.Text, nullable=False),
    sa.Column("data_json", sa.Text, nullable=False),
    sa.Column("heldout_path", sa.Text, nullable=False),
    sa.Column("waiting_since", Time),
    sa.Column("late_note", sa.Text),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("question_id", sa.Text, nullable=False),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("snapshot_path", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("saved_at", Time, nullable=False),
    sa.Column("detected_at", Time, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("grading_started_at", Time),
    sa.Column("superseded_by", sa.Integer),
    sa.Column("published_at", Time),  # classroom mode: last handed to the broker
    sa.CheckConstraint("state IN ('queued', 'grading', 'graded', 'error', 'superseded')",
                       name="submissions_state"),
    sa.Index("submissions_queue", "state", "id"),
    sa.Index("submissions_question", "session_id", "question_id", "id"),
    sqlite_autoincrement=True,
)

results = sa.Table(
    "results", metadata,
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), primary_key=True,
              autoincrement=False),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("question_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("events_session", "session_id", "id"),
    sqlite_autoincrement=True,
)

service_runs = sa.Table(
    "service_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("last_seen", Time, nullable=False),
    sa.Column("boot_id", sa.Text),   # the boot a heartbeat was taken in (issue 17) …
    sa.Column("boottime", Time),     # … and its CLOCK_BOOTTIME
    sqlite_autoincrement=True,
)

# Classroom mode ------------------------------------------------------------------------------
sittings = sa.Table(
    "sittings", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("exam_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("join_code", sa.Text, nullable=False, unique=True),
    sa.Column("opens_at", Time, nullable=False),   # learners may start from here …
    sa.Column("closes_at", Time, nullable=False),  # … until here; each has `minutes` from joining
    sa.Column("minutes", sa.Double, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

learners = sa.Table(
    "learners", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("sitting_id", sa.Text, sa.ForeignKey("sittings.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False, unique=True),
    sa.Column("joined_at", Time, nullable=False),
    sa.Index("learners_sitting", "sitting_id", "joined_at"),
)
