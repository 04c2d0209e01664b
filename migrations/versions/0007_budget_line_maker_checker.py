"""money: who last edited and who submitted a budget line's amounts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00

Maker-checker: the approver of a line may be neither its requester nor whoever last set its
amounts nor whoever submitted it. Existing lines were edited and submitted by their requester
as far as anyone can tell, so both columns start as the requester (submitted lines only for
`submitted_by_id`).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("budget_lines") as batch_op:
        batch_op.add_column(sa.Column("amounts_edited_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_budget_lines_amounts_edited_by_id_users"),
            "users",
            ["amounts_edited_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            op.f("fk_budget_lines_submitted_by_id_users"), "users", ["submitted_by_id"], ["id"]
        )
    op.execute(sa.text("UPDATE budget_lines SET amounts_edited_by_id = requested_by_id"))
    op.execute(
        sa.text(
            "UPDATE budget_lines SET submitted_by_id = requested_by_id "
            "WHERE submitted_at IS NOT NULL"
        )
    )


def downgrade():
    with op.batch_alter_table("budget_lines") as batch_op:
        batch_op.drop_constraint(op.f("fk_budget_lines_submitted_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(
            op.f("fk_budget_lines_amounts_edited_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("amounts_edited_by_id")
