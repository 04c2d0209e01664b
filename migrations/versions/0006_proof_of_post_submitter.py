"""who submitted a deliverable's proof of post

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:00:00

Verification must come from someone other than the person who submitted the proof (or an
admin), so the submitter is kept. Proofs stored before this column have no known submitter.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliverables") as batch_op:
        batch_op.add_column(sa.Column("proof_submitted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_deliverables_proof_submitted_by_id_users",
            "users",
            ["proof_submitted_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("deliverables") as batch_op:
        batch_op.drop_constraint("fk_deliverables_proof_submitted_by_id_users", type_="foreignkey")
        batch_op.drop_column("proof_submitted_by_id")
