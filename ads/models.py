"""Ad accounts, platform campaigns, daily spend facts, sync runs and restatements."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from core.extensions import db
from core.models import TimestampMixin
from core.money import Money
from core.types import UTCDateTime, utcnow


class Platform(StrEnum):
    META_ADS = "meta_ads"
    GOOGLE_ADS = "google_ads"
    TIKTOK_ADS = "tiktok_ads"
    LINKEDIN_ADS = "linkedin_ads"

    @property
    def label(self) -> str:
        return {
            "meta_ads": "Meta Ads",
            "google_ads": "Google Ads",
            "tiktok_ads": "TikTok Ads",
            "linkedin_ads": "LinkedIn Ads",
        }[self.value]


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"

    @property
    def label(self) -> str:
        return {"needs_reauth": "Needs re-authorisation"}.get(self.value, self.value.title())


# ISO 4217's "no currency": a Meta account connected without one, until Meta says which.
UNKNOWN_CURRENCY = "XXX"


class AdAccount(TimestampMixin, db.Model):
    __tablename__ = "ad_accounts"
    __audited__ = True
    __audit_exclude__ = ("token_encrypted", "updated_at", "last_synced_at")
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))  # act_123 for Meta
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Fernet ciphertext; never logged, never sent back to a browser.
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE.value)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    backfill_days: Mapped[int] = mapped_column(Integer, default=90)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_through: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    platform_campaigns: Mapped[list[PlatformCampaign]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="PlatformCampaign.name"
    )

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)

    @property
    def currency_known(self) -> bool:
        return self.currency != UNKNOWN_CURRENCY

    def __str__(self) -> str:
        if not self.name or self.name == self.external_id:
            return self.external_id
        return f"{self.name} ({self.external_id})"


class MappingSource(StrEnum):
    TAG = "tag"  # "[FD-12]" in the platform campaign name
    NAME = "name"  # platform name equals the Flightdeck campaign name
    MANUAL = "manual"
    NONE = "none"
    # The naming rule pointed at a campaign the importer may not edit: kept unmapped, and no
    # automatic rule maps it later; the campaign's owner or an admin maps it by hand.
    HELD = "held"


class PlatformCampaign(TimestampMixin, db.Model):
    """A campaign as the ad platform knows it, mapped (or not) to a Flightdeck campaign."""

    __tablename__ = "platform_campaigns"
    __audited__ = True
    __audit_exclude__ = ("updated_at", "last_seen_at")
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ad_accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(400), default="")
    status: Mapped[str] = mapped_column(String(40), default="")
    objective: Mapped[str] = mapped_column(String(60), default="")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    mapping_source: Mapped[str] = mapped_column(String(10), default=MappingSource.NONE.value)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[AdAccount] = relationship(back_populates="platform_campaigns")
    campaign: Mapped[Campaign | None] = relationship()

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class SpendFact(db.Model):
    """One day of one platform object (a Meta ad, or a campaign row from a CSV export).

    Natural key: (account, level, object, date, attribution setting). Amounts are integer minor
    units in the account currency.
    """

    __tablename__ = "spend_facts"
    __table_args__ = (
        UniqueConstraint("account_id", "level", "object_id", "day", "attribution_setting"),
        Index("ix_spend_facts_campaign_day", "platform_campaign_id", "day"),
        Index("ix_spend_facts_account_day", "account_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ad_accounts.id", ondelete="CASCADE"))
    platform_campaign_id: Mapped[int] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="CASCADE")
    )
    level: Mapped[str] = mapped_column(String(10))  # ad | campaign
    object_id: Mapped[str] = mapped_column(String(64))
    adset_id: Mapped[str] = mapped_column(String(64), default="")
    object_name: Mapped[str] = mapped_column(String(400), default="")
    day: Mapped[date] = mapped_column(Date)
    attribution_setting: Mapped[str] = mapped_column(String(40), default="")
    currency: Mapped[str] = mapped_column(String(3))
    spend_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    purchases: Mapped[int] = mapped_column(BigInteger, default=0)
    leads: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[int] = mapped_column(BigInteger, default=0)
    conversion_value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))

    @property
    def spend(self) -> Money:
        return Money(self.spend_minor, self.currency)


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # an import whose bad rows were rejected
    FAILED = "failed"


LIVE_RUN_WHERE = "kind = 'meta_sync' AND status IN ('queued', 'running', 'retrying')"


class SyncRun(db.Model):
    """The ledger of every sync or import: what it did, how long, and why it failed."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_account_started", "account_id", "started_at"),
        # At most one live Meta sync per account, whatever races past the check in open_run.
        Index(
            "uq_sync_runs_one_live_per_account",
            "account_id",
            unique=True,
            postgresql_where=text(LIVE_RUN_WHERE),
            sqlite_where=text(LIVE_RUN_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("ad_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # meta_sync | csv_import
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED.value)
    job_id: Mapped[str] = mapped_column(String(120), default="")
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_restated: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # 0–100
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The interrupted run of the same window this one carried on from (its finished days).
    resumed_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="SET NULL")
    )

    account: Mapped[AdAccount | None] = relationship()

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def is_final(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


class Restatement(db.Model):
    """A value the platform changed after we first stored it (attribution catches up)."""

    __tablename__ = "restatements"
    __table_args__ = (Index("ix_restatements_campaign_day", "platform_campaign_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ad_accounts.id", ondelete="CASCADE"))
    platform_campaign_id: Mapped[int] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="CASCADE")
    )
    object_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    old_value: Mapped[int] = mapped_column(BigInteger)
    new_value: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
