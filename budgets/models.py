"""Budgets, allocation lines (campaign × channel), monthly phasing, reallocations, FX rates and
in-app notifications. Money is integer minor units beside a currency column everywhere."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign, Channel
from core.extensions import db
from core.models import TimestampMixin, User
from core.money import money_property
from core.types import ScaledDecimal, UTCDateTime, utcnow

# Rates carry 10 decimal places (JPY→BHD is 0.0025…); stored as a scaled BIGINT, exact on
# SQLite and PostgreSQL alike.
RATE_SCALE = 10


class BudgetStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.title()


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    CUSTOM = "custom"


class LineStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LOCKED = "locked"

    @property
    def label(self) -> str:
        return self.value.title()


# Lines that hold money against the budget (guard rails count these); rejected and withdrawn
# lines hold none.
HOLDING = (LineStatus.DRAFT, LineStatus.SUBMITTED, LineStatus.APPROVED, LineStatus.LOCKED)
# Lines that are the plan (pacing, exports, influencer allocations).
PLANNED = (LineStatus.APPROVED, LineStatus.LOCKED)


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value.title()


class Budget(TimestampMixin, db.Model):
    __tablename__ = "budgets"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period_order"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("under_pct > 0 AND under_pct <= 100", name="under_pct_range"),
        CheckConstraint("over_pct >= 100 AND over_pct <= 1000", name="over_pct_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    # "2026-Q4", "2026-11" or "2026-10-15..2026-12-31"; the export's --period.
    period: Mapped[str] = mapped_column(String(40), index=True)
    period_kind: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=BudgetStatus.OPEN.value, index=True)
    # Pacing thresholds, in percent of plan to date: below `under_pct` is under-pacing, above
    # `over_pct` over-pacing.
    under_pct: Mapped[int] = mapped_column(Integer, default=85)
    over_pct: Mapped[int] = mapped_column(Integer, default=115)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    lines: Mapped[list[AllocationLine]] = relationship(
        back_populates="budget", order_by="AllocationLine.id"
    )

    total = money_property("total_minor")

    @property
    def is_closed(self) -> bool:
        return self.status == BudgetStatus.CLOSED

    def __str__(self) -> str:
        return f"{self.name} ({self.period}, {self.currency})"


class AllocationLine(TimestampMixin, db.Model):
    """Money of a budget for one campaign × channel, with its approval state."""

    __tablename__ = "budget_lines"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("budget_id", "campaign_id", "channel"),
        CheckConstraint("planned_minor >= 0", name="planned_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    planned_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default=LineStatus.DRAFT.value, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Maker-checker: whoever last set the amount, campaign, channel or phasing before approval,
    # and whoever submitted it, may not decide it (nor may the requester).
    amounts_edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    budget: Mapped[Budget] = relationship(back_populates="lines")
    campaign: Mapped[Campaign] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    phases: Mapped[list[AllocationPhase]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="AllocationPhase.month"
    )

    planned = money_property("planned_minor")

    @property
    def status_enum(self) -> LineStatus:
        return LineStatus(self.status)

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    def __str__(self) -> str:
        campaign = self.campaign.name if self.campaign else f"campaign {self.campaign_id}"
        return f"Budget {self.budget_id}: {campaign} × {self.channel}"


class AllocationPhase(db.Model):
    """Optional monthly phasing of a line; the months of a line add up to it exactly."""

    __tablename__ = "budget_line_phases"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("line_id", "month"),
        CheckConstraint("planned_minor >= 0", name="planned_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    planned_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    line: Mapped[AllocationLine] = relationship(back_populates="phases")

    def __str__(self) -> str:
        return f"Line {self.line_id} {self.month:%Y-%m}"


class Reallocation(TimestampMixin, db.Model):
    """A request to move approved money from one line to another of the same budget."""

    __tablename__ = "budget_reallocations"
    __audited__ = True
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    from_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id", ondelete="CASCADE"))
    to_line_id: Mapped[int] = mapped_column(ForeignKey("budget_lines.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING.value, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    budget: Mapped[Budget] = relationship()
    from_line: Mapped[AllocationLine] = relationship(foreign_keys=[from_line_id], lazy="joined")
    to_line: Mapped[AllocationLine] = relationship(foreign_keys=[to_line_id], lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    amount = money_property("amount_minor")

    def __str__(self) -> str:
        return f"Reallocation {self.id} of budget {self.budget_id}"


class FxRate(TimestampMixin, db.Model):
    """1 unit of `base_currency` = `rate` units of `quote_currency` on `day`."""

    __tablename__ = "fx_rates"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("day", "base_currency", "quote_currency"),
        Index("ix_fx_rates_pair_day", "base_currency", "quote_currency", "day"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    base_currency: Mapped[str] = mapped_column(String(3))
    quote_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(ScaledDecimal(RATE_SCALE))
    source: Mapped[str] = mapped_column(String(120), default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __str__(self) -> str:
        return f"{self.base_currency}→{self.quote_currency} {self.day:%Y-%m-%d}"


class Notification(db.Model):
    """In-app notice: finance hears of requests, requesters of decisions."""

    __tablename__ = "budget_notifications"
    __table_args__ = (Index("ix_budget_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
