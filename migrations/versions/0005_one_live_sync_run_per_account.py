"""one live sync run per account

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

A partial unique index: at most one Meta sync run per account is queued, running or retrying.
Two "Sync now" presses (or the nightly sync and a press) that race past the application's
check then cannot both start a sync. Older live duplicates, if a database has any, are closed
as interrupted first, as the application would on the next sync.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LIVE = "kind = 'meta_sync' AND status IN ('queued', 'running', 'retrying')"


def upgrade():
    op.execute(
        sa.text(
            "UPDATE sync_runs SET status = 'failed', "
            "error = 'Interrupted: the worker stopped before the sync finished.' "
            "WHERE kind = 'meta_sync' AND status IN ('queued', 'running', 'retrying') "
            "AND id NOT IN (SELECT MAX(id) FROM sync_runs WHERE kind = 'meta_sync' "
            "AND status IN ('queued', 'running', 'retrying') GROUP BY account_id)"
        )
    )
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.create_index(
            "uq_sync_runs_one_live_per_account",
            ["account_id"],
            unique=True,
            postgresql_where=sa.text(LIVE),
            sqlite_where=sa.text(LIVE),
        )


def downgrade():
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_index("uq_sync_runs_one_live_per_account")
