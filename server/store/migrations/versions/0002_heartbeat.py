"""The service's heartbeat (when it was up, and the high-water mark of time seen), the successor
of a superseded submission, and a per-question note on a file that cannot count."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("last_seen", sa.Double, nullable=False),
        sqlite_autoincrement=True,
    )
    op.add_column("submissions", sa.Column("superseded_by", sa.Integer))
    op.add_column("session_questions", sa.Column("late_note", sa.Text))
