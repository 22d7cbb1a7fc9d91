"""Each heartbeat's boot and uptime (issue 17): a restart in the same boot measures its downtime by
CLOCK_BOOTTIME, not by the wall clock. (The fourth step of the schema before Alembic.)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_runs", sa.Column("boot_id", sa.Text))
    op.add_column("service_runs", sa.Column("boottime", sa.Double))
