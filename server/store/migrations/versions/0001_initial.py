"""The first schema: sessions, their questions, submissions (the queue), results, events.

Revision ids are the schema's version numbers: a SQLite database made before Alembic, whose
`PRAGMA user_version` is N, is stamped at revision N and upgraded from there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SUBMISSION_STATES = "('queued', 'grading', 'graded', 'error', 'superseded')"


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("exam_id", sa.Text, nullable=False),
        sa.Column("exam_title", sa.Text, nullable=False),
        sa.Column("project_dir", sa.Text, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("deadline", sa.Double, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.Double),
        sa.Column("submit_reason", sa.Text),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("pass_mark", sa.Double, nullable=False),
        sa.Column("duration_minutes", sa.Double, nullable=False),
        sa.CheckConstraint("state IN ('running', 'submitted')", name="sessions_state"),
    )
    op.create_index("sessions_running", "sessions", ["state", "deadline"])
    op.create_table(
        "session_questions",
        sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), primary_key=True),
        sa.Column("question_id", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("weight", sa.Double, nullable=False),
        sa.Column("model_file", sa.Text, nullable=False),
        sa.Column("variant_json", sa.Text, nullable=False),
        sa.Column("data_json", sa.Text, nullable=False),
        sa.Column("heldout_path", sa.Text, nullable=False),
        sa.Column("waiting_since", sa.Double),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("snapshot_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("saved_at", sa.Double, nullable=False),
        sa.Column("detected_at", sa.Double, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("grading_started_at", sa.Double),
        sa.CheckConstraint(f"state IN {SUBMISSION_STATES}", name="submissions_state"),
        sqlite_autoincrement=True,
    )
    op.create_index("submissions_queue", "submissions", ["state", "id"])
    op.create_index("submissions_question", "submissions", ["session_id", "question_id", "id"])
    op.create_table(
        "results",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("events_session", "events", ["session_id", "id"])
