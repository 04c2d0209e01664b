"""imports: influencer uploads on disk, previewed and imported by jobs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00

An influencer upload (roster, orders, deliverable metrics) no longer carries its file in the
row: the file waits under UPLOAD_DIR and the row holds the state of its jobs (stage, status,
progress), the chosen mapping, the stored roster preview and the import's report. Uploads
still pending are dropped: they were drafts of at most a day, whose content is gone with the
column.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM influencer_uploads"))
    with op.batch_alter_table("influencer_uploads") as batch_op:
        batch_op.drop_column("content")
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="roster")
        )
        batch_op.add_column(
            sa.Column("path", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("stage", sa.String(length=20), nullable=False, server_default="preview")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="queued")
        )
        batch_op.add_column(sa.Column("progress", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mapping", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR")
        )
        batch_op.add_column(sa.Column("preview", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("job_id", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute(sa.text("DELETE FROM influencer_uploads"))
    with op.batch_alter_table("influencer_uploads") as batch_op:
        for name in (
            "finished_at",
            "heartbeat_at",
            "job_id",
            "result",
            "preview",
            "currency",
            "mapping",
            "progress",
            "status",
            "stage",
            "path",
            "kind",
        ):
            batch_op.drop_column(name)
        batch_op.add_column(
            sa.Column("content", sa.LargeBinary(), nullable=False, server_default=sa.text("''"))
        )
