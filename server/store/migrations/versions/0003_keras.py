"""The Keras a session's scripts run in (contract 2): "2" = tf_keras, the real exam's; "3"."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("keras", sa.Text, nullable=False, server_default="2"))
