"""sync runs: the interrupted run a run resumed from

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:00:00

`sync_runs.resumed_from_id` links a run to the failed run of the same window whose finished
days it carried on from. A "synced through" later than yesterday (accepted before sync windows
were clamped to complete days) is brought back to yesterday: those days were never complete.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.add_column(sa.Column("resumed_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_sync_runs_resumed_from_id_sync_runs"),
            "sync_runs",
            ["resumed_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
    if op.get_bind().dialect.name == "sqlite":
        clamp = (
            "UPDATE ad_accounts SET synced_through = date(CURRENT_DATE, '-1 day') "
            "WHERE synced_through >= CURRENT_DATE"
        )
    else:
        clamp = (
            "UPDATE ad_accounts SET synced_through = CURRENT_DATE - 1 "
            "WHERE synced_through >= CURRENT_DATE"
        )
    op.execute(sa.text(clamp))


def downgrade():
    with op.batch_alter_table("sync_runs") as batch_op:
        batch_op.drop_constraint(op.f("fk_sync_runs_resumed_from_id_sync_runs"), type_="foreignkey")
        batch_op.drop_column("resumed_from_id")
