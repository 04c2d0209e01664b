"""influencers, partnerships, deliverables and payments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:30:00

Roster (influencers, handles, rate cards, pending roster uploads), partnerships, deliverables,
payment milestones and attributed orders. Money is BIGINT minor units beside a currency;
engagement rates are BIGINT scaled by 10**4; no table refers to the budgets tables.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "influencers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=12), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("niches", sa.String(length=400), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencers")),
    )
    with op.batch_alter_table("influencers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_influencers_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_influencers_name"), ["name"], unique=False)

    op.create_table(
        "influencer_handles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("influencer_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("handle", sa.String(length=120), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("engagement_rate", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "followers >= 0", name=op.f("ck_influencer_handles_followers_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.id"],
            name=op.f("fk_influencer_handles_influencer_id_influencers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencer_handles")),
        sa.UniqueConstraint("platform", "handle", name=op.f("uq_influencer_handles_platform")),
    )
    with op.batch_alter_table("influencer_handles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_influencer_handles_influencer_id"), ["influencer_id"], unique=False
        )

    op.create_table(
        "influencer_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("influencer_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_type", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_influencer_rates_rate_not_negative")),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.id"],
            name=op.f("fk_influencer_rates_influencer_id_influencers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencer_rates")),
        sa.UniqueConstraint(
            "influencer_id", "deliverable_type", name=op.f("uq_influencer_rates_influencer_id")
        ),
    )
    op.create_table(
        "influencer_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_influencer_uploads_created_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencer_uploads")),
    )
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("influencer_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_terms", sa.Text(), nullable=False),
        sa.Column("usage_rights", sa.Text(), nullable=False),
        sa.Column("exclusivity_days", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("promo_code", sa.String(length=40), nullable=True),
        sa.Column("utm_campaign", sa.String(length=80), nullable=True),
        sa.Column("contracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_partnerships_term_order")),
        sa.CheckConstraint(
            "exclusivity_days >= 0", name=op.f("ck_partnerships_exclusivity_not_negative")
        ),
        sa.CheckConstraint("fee_minor >= 0", name=op.f("ck_partnerships_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_partnerships_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.id"],
            name=op.f("fk_partnerships_influencer_id_influencers"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_partnerships_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnerships")),
        sa.UniqueConstraint("promo_code", name=op.f("uq_partnerships_promo_code")),
        sa.UniqueConstraint("utm_campaign", name=op.f("uq_partnerships_utm_campaign")),
    )
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partnerships_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partnerships_influencer_id"), ["influencer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partnerships_status"), ["status"], unique=False)

    op.create_table(
        "deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content_url", sa.String(length=500), nullable=False),
        sa.Column("reviewer_comments", sa.Text(), nullable=False),
        sa.Column("proof_url", sa.String(length=500), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("impressions", sa.BigInteger(), nullable=True),
        sa.Column("reach", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("clicks", sa.BigInteger(), nullable=True),
        sa.Column("conversions", sa.BigInteger(), nullable=True),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=True),
        sa.Column("landing_url", sa.String(length=500), nullable=False),
        sa.Column("utm_source", sa.String(length=80), nullable=False),
        sa.Column("utm_medium", sa.String(length=80), nullable=False),
        sa.Column("utm_content", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_deliverables_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_deliverables_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["users.id"], name=op.f("fk_deliverables_verified_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverables")),
    )
    with op.batch_alter_table("deliverables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliverables_due_date"), ["due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deliverables_partnership_id"), ["partnership_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deliverables_status"), ["status"], unique=False)

    op.create_table(
        "influencer_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("promo_code", sa.String(length=40), nullable=False),
        sa.Column("utm_campaign", sa.String(length=120), nullable=False),
        sa.Column("utm_content", sa.String(length=120), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=True),
        sa.Column("attributed_by", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deliverables.id"],
            name=op.f("fk_influencer_orders_deliverable_id_deliverables"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_influencer_orders_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencer_orders")),
        sa.UniqueConstraint("order_ref", name=op.f("uq_influencer_orders_order_ref")),
    )
    with op.batch_alter_table("influencer_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_influencer_orders_ordered_on"), ["ordered_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_influencer_orders_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "payment_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor >= 0", name=op.f("ck_payment_milestones_amount_not_negative")
        ),
        sa.CheckConstraint(
            "share_bp > 0 AND share_bp <= 10000", name=op.f("ck_payment_milestones_share_range")
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deliverables.id"],
            name=op.f("fk_payment_milestones_deliverable_id_deliverables"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"], ["users.id"], name=op.f("fk_payment_milestones_paid_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_payment_milestones_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_milestones")),
    )
    with op.batch_alter_table("payment_milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_milestones_partnership_id"), ["partnership_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_milestones_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("payment_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_milestones_status"))
        batch_op.drop_index(batch_op.f("ix_payment_milestones_partnership_id"))

    op.drop_table("payment_milestones")
    with op.batch_alter_table("influencer_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_influencer_orders_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_influencer_orders_ordered_on"))

    op.drop_table("influencer_orders")
    with op.batch_alter_table("deliverables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliverables_status"))
        batch_op.drop_index(batch_op.f("ix_deliverables_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_deliverables_due_date"))

    op.drop_table("deliverables")
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnerships_status"))
        batch_op.drop_index(batch_op.f("ix_partnerships_influencer_id"))
        batch_op.drop_index(batch_op.f("ix_partnerships_campaign_id"))

    op.drop_table("partnerships")
    op.drop_table("influencer_uploads")
    op.drop_table("influencer_rates")
    with op.batch_alter_table("influencer_handles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_influencer_handles_influencer_id"))

    op.drop_table("influencer_handles")
    with op.batch_alter_table("influencers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_influencers_name"))
        batch_op.drop_index(batch_op.f("ix_influencers_country"))

    op.drop_table("influencers")
