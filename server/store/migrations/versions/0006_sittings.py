"""Classroom sittings: an instructor's sitting of one exam (a start window and a length) with its
join code, and each learner who joined it (their own session; their token kept only as a hash)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sittings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("exam_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("join_code", sa.Text, nullable=False, unique=True),
        sa.Column("opens_at", sa.Double, nullable=False),
        sa.Column("closes_at", sa.Double, nullable=False),
        sa.Column("minutes", sa.Double, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "learners",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("sitting_id", sa.Text, sa.ForeignKey("sittings.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False,
                  unique=True),
        sa.Column("joined_at", sa.Double, nullable=False),
    )
    op.create_index("learners_sitting", "learners", ["sitting_id", "joined_at"])
