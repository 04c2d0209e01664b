"""Campaigns and their SMART goals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import TimestampMixin, User
from core.money import money_property
from core.types import ScaledDecimal, UTCDateTime


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return self.value.title()


class Objective(StrEnum):
    AWARENESS = "awareness"
    TRAFFIC = "traffic"
    ENGAGEMENT = "engagement"
    LEADS = "leads"
    SALES = "sales"
    APP_INSTALLS = "app_installs"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Channel(StrEnum):
    META_ADS = "meta_ads"
    GOOGLE_ADS = "google_ads"
    TIKTOK_ADS = "tiktok_ads"
    LINKEDIN_ADS = "linkedin_ads"
    INFLUENCERS = "influencers"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "meta_ads": "Meta Ads",
            "google_ads": "Google Ads",
            "tiktok_ads": "TikTok Ads",
            "linkedin_ads": "LinkedIn Ads",
            "influencers": "Influencers",
            "other": "Other",
        }[self.value]


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"

    @property
    def label(self) -> str:
        return "at least" if self is Direction.AT_LEAST else "at most"


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="flight_order"),
        CheckConstraint("planned_budget_minor >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    objective: Mapped[str] = mapped_column(String(20))
    # Stored as ",meta_ads,influencers," so a LIKE '%,meta_ads,%' filter is exact.
    channels_csv: Mapped[str] = mapped_column("channels", String(200), default="")
    brand: Mapped[str] = mapped_column(String(120), default="")
    product: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    planned_budget_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT.value, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User] = relationship(lazy="joined")
    goals: Mapped[list[Goal]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="Goal.deadline"
    )

    planned_budget = money_property("planned_budget_minor")

    @property
    def channels(self) -> list[str]:
        return [c for c in self.channels_csv.split(",") if c]

    @channels.setter
    def channels(self, values: list[str]) -> None:
        ordered = [c.value for c in Channel if c.value in set(values)]
        self.channels_csv = "," + ",".join(ordered) + "," if ordered else ""

    @property
    def status_enum(self) -> CampaignStatus:
        return CampaignStatus(self.status)

    def __str__(self) -> str:
        return self.name


class Goal(TimestampMixin, db.Model):
    """A SMART goal. Progress columns are filled from synced data, never typed in."""

    __tablename__ = "goals"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(20))  # None = every campaign channel
    direction: Mapped[str] = mapped_column(String(10))
    baseline: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    target: Mapped[Decimal] = mapped_column(ScaledDecimal(4))
    deadline: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    # Progress, written by the sync/ROI jobs.
    current_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    forecast_value: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))
    progress_status: Mapped[str | None] = mapped_column(String(20))
    progress_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(back_populates="goals")
    owner: Mapped[User] = relationship(lazy="joined")

    def __str__(self) -> str:
        from campaigns.metrics import METRICS

        metric = METRICS.get(self.metric)
        label = metric.label if metric else self.metric
        return f"{label} {Direction(self.direction).label} {self.target}"
