"""Classroom mode: when a submission's job was last handed to the broker (the outbox mark).

The submissions table stays the queue of record; the broker only carries keys. A queued
submission without this mark has not been published yet (the service died between storing and
publishing): it is published at the next look. A submission "grading" for longer than its lease
since it was last published is published again (a worker that vanished).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("published_at", sa.Double))
