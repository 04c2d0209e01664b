"""Roster (influencers, handles, rate cards), partnerships, deliverables, payment milestones,
attributed orders and roster uploads awaiting their preview.

Money is integer minor units beside a currency column; engagement rates are exact decimals
(percent, 4 places) stored as scaled integers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from core.extensions import db
from core.models import TimestampMixin, User
from core.money import money_property
from core.types import ScaledDecimal, UTCDateTime, utcnow


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class InfluencerStatus(_Labelled):
    ACTIVE = "active"
    DO_NOT_WORK_WITH = "do_not_work_with"

    @property
    def label(self) -> str:
        return "Do not work with" if self is InfluencerStatus.DO_NOT_WORK_WITH else "Active"


class SocialPlatform(_Labelled):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    X = "x"
    TWITCH = "twitch"
    FACEBOOK = "facebook"
    LINKEDIN = "linkedin"
    PINTEREST = "pinterest"
    BLOG = "blog"

    @property
    def label(self) -> str:
        return {"tiktok": "TikTok", "youtube": "YouTube", "x": "X", "linkedin": "LinkedIn"}.get(
            self.value, self.value.title()
        )


class DeliverableType(_Labelled):
    POST = "post"
    REEL = "reel"
    STORY = "story"
    SHORT_VIDEO = "short_video"
    LONG_VIDEO = "long_video"
    BLOG = "blog"
    LIVE = "live"


class PartnershipStatus(_Labelled):
    PROSPECT = "prospect"
    NEGOTIATING = "negotiating"
    CONTRACTED = "contracted"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# A partnership in one of these states has a contracted fee: a commitment against the budget.
COMMITTED_STATUSES = (
    PartnershipStatus.CONTRACTED.value,
    PartnershipStatus.ACTIVE.value,
    PartnershipStatus.COMPLETED.value,
)


class DeliverableStatus(_Labelled):
    PLANNED = "planned"
    DRAFT_SUBMITTED = "draft_submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    PUBLISHED = "published"
    VERIFIED = "verified"


# Once posted, a deliverable is no longer late.
DONE_STATUSES = (DeliverableStatus.PUBLISHED.value, DeliverableStatus.VERIFIED.value)


class MilestoneStatus(_Labelled):
    PENDING = "pending"
    PAYABLE = "payable"
    PAID = "paid"


class MilestoneCondition(_Labelled):
    CONTRACT = "contract"  # payable once the partnership is contracted
    DELIVERABLE = "deliverable"  # gated: payable once one deliverable is verified
    ALL_DELIVERABLES = "all_deliverables"  # gated: payable once every deliverable is verified

    @property
    def label(self) -> str:
        return {
            "contract": "On contract",
            "deliverable": "On a verified deliverable",
            "all_deliverables": "On all deliverables verified",
        }[self.value]

    @property
    def gated(self) -> bool:
        return self is not MilestoneCondition.CONTRACT


METRIC_FIELDS = (
    "impressions",
    "reach",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "conversions",
)
ENGAGEMENT_FIELDS = ("likes", "comments", "shares", "saves")


class Influencer(TimestampMixin, db.Model):
    __tablename__ = "influencers"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    country: Mapped[str] = mapped_column(String(2), default="", index=True)  # ISO 3166 alpha-2
    language: Mapped[str] = mapped_column(String(12), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Stored as ",beauty,fitness," so a LIKE '%,beauty,%' filter is exact.
    niches_csv: Mapped[str] = mapped_column("niches", String(400), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=InfluencerStatus.ACTIVE.value)

    handles: Mapped[list[InfluencerHandle]] = relationship(
        back_populates="influencer",
        cascade="all, delete-orphan",
        order_by="InfluencerHandle.platform",
    )
    rates: Mapped[list[InfluencerRate]] = relationship(
        cascade="all, delete-orphan", order_by="InfluencerRate.deliverable_type"
    )

    @property
    def niches(self) -> list[str]:
        return [n for n in self.niches_csv.split(",") if n]

    @niches.setter
    def niches(self, values: list[str]) -> None:
        cleaned = sorted({v.strip().lower() for v in values if v and v.strip()})
        self.niches_csv = "," + ",".join(cleaned) + "," if cleaned else ""

    @property
    def total_followers(self) -> int:
        return sum(h.followers or 0 for h in self.handles)

    def handle_on(self, platform: str) -> InfluencerHandle | None:
        return next((h for h in self.handles if h.platform == platform), None)

    def __str__(self) -> str:
        return self.name


class InfluencerHandle(db.Model):
    """One account of an influencer; (platform, handle) is how duplicates are recognised."""

    __tablename__ = "influencer_handles"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        CheckConstraint("followers >= 0", name="followers_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    influencer_id: Mapped[int] = mapped_column(
        ForeignKey("influencers.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(120))  # lower case, no leading @
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    # Percent with 4 decimals: 3.2500 means 3.25 %.
    engagement_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(4))

    influencer: Mapped[Influencer] = relationship(back_populates="handles")

    @property
    def platform_label(self) -> str:
        return SocialPlatform(self.platform).label

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


class InfluencerRate(db.Model):
    """A rate card line: the influencer's price for one deliverable type."""

    __tablename__ = "influencer_rates"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("influencer_id", "deliverable_type"),
        CheckConstraint("amount_minor >= 0", name="rate_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    deliverable_type: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    amount = money_property("amount_minor")

    def __str__(self) -> str:
        return f"{self.deliverable_type} {self.amount}"


class Partnership(TimestampMixin, db.Model):
    __tablename__ = "partnerships"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("end_date >= start_date", name="term_order"),
        CheckConstraint("exclusivity_days >= 0", name="exclusivity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(
        String(20), default=PartnershipStatus.PROSPECT.value, index=True
    )
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms: Mapped[str] = mapped_column(Text, default="")
    usage_rights: Mapped[str] = mapped_column(Text, default="")
    exclusivity_days: Mapped[int] = mapped_column(Integer, default=0)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    promo_code: Mapped[str | None] = mapped_column(String(40), unique=True)  # upper case
    utm_campaign: Mapped[str | None] = mapped_column(String(80), unique=True)  # lower case
    contracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    influencer: Mapped[Influencer] = relationship(lazy="joined")
    campaign: Mapped[Campaign] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(lazy="joined")
    deliverables: Mapped[list[Deliverable]] = relationship(
        back_populates="partnership",
        cascade="all, delete-orphan",
        order_by="(Deliverable.due_date, Deliverable.id)",
    )
    milestones: Mapped[list[PaymentMilestone]] = relationship(
        back_populates="partnership",
        cascade="all, delete-orphan",
        order_by="(PaymentMilestone.position, PaymentMilestone.id)",
    )

    fee = money_property("fee_minor")

    @property
    def status_enum(self) -> PartnershipStatus:
        return PartnershipStatus(self.status)

    @property
    def is_committed(self) -> bool:
        return self.status in COMMITTED_STATUSES

    @property
    def overdue_count(self) -> int:
        return sum(1 for d in self.deliverables if d.is_overdue)

    def __str__(self) -> str:
        return f"{self.influencer.name} × {self.campaign.name}"


class Deliverable(TimestampMixin, db.Model):
    __tablename__ = "deliverables"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(
        String(20), default=DeliverableStatus.PLANNED.value, index=True
    )
    content_url: Mapped[str] = mapped_column(String(500), default="")
    reviewer_comments: Mapped[str] = mapped_column(Text, default="")
    proof_url: Mapped[str] = mapped_column(String(500), default="")
    # Who gave the proof: someone else (or an admin) verifies it. None for older proofs.
    proof_submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_on: Mapped[date | None] = mapped_column(Date)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Metrics: None until entered (by hand or CSV); revenue in the partnership currency.
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    conversions: Mapped[int | None] = mapped_column(BigInteger)
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Tracking link (utm_campaign lives on the partnership).
    landing_url: Mapped[str] = mapped_column(String(500), default="")
    utm_source: Mapped[str] = mapped_column(String(80), default="")
    utm_medium: Mapped[str] = mapped_column(String(80), default="")
    utm_content: Mapped[str] = mapped_column(String(80), default="")

    partnership: Mapped[Partnership] = relationship(back_populates="deliverables")

    @property
    def status_enum(self) -> DeliverableStatus:
        return DeliverableStatus(self.status)

    @property
    def is_overdue(self) -> bool:
        if self.partnership.status == PartnershipStatus.CANCELLED.value:
            return False  # nobody is chasing it any more
        return self.status not in DONE_STATUSES and self.due_date < date.today()

    @property
    def engagements(self) -> int:
        return sum(getattr(self, f) or 0 for f in ENGAGEMENT_FIELDS)

    def __str__(self) -> str:
        return f"{DeliverableType(self.type).label} on {SocialPlatform(self.platform).label}"


class PaymentMilestone(TimestampMixin, db.Model):
    """A slice of the fee, pending → payable (its condition met) → paid."""

    __tablename__ = "payment_milestones"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(120))
    share_bp: Mapped[int] = mapped_column(Integer)  # basis points of the fee: 5000 = 50 %
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    condition: Mapped[str] = mapped_column(String(20), default=MilestoneCondition.CONTRACT.value)
    deliverable_id: Mapped[int | None] = mapped_column(ForeignKey("deliverables.id"))
    status: Mapped[str] = mapped_column(
        String(10), default=MilestoneStatus.PENDING.value, index=True
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(120), default="")
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partnership: Mapped[Partnership] = relationship(back_populates="milestones")
    deliverable: Mapped[Deliverable | None] = relationship()
    paid_by: Mapped[User | None] = relationship()

    amount = money_property("amount_minor")

    @property
    def condition_enum(self) -> MilestoneCondition:
        return MilestoneCondition(self.condition)

    def __str__(self) -> str:
        return f"{self.label} ({self.amount})"


class AttributedOrder(TimestampMixin, db.Model):
    """A shop order attributed to a partnership by promo code or UTM; keyed by the order id."""

    __tablename__ = "influencer_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(100), unique=True)
    ordered_on: Mapped[date] = mapped_column(Date, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    promo_code: Mapped[str] = mapped_column(String(40), default="")
    utm_campaign: Mapped[str] = mapped_column(String(120), default="")
    utm_content: Mapped[str] = mapped_column(String(120), default="")
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    deliverable_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliverables.id", ondelete="SET NULL")
    )
    attributed_by: Mapped[str] = mapped_column(String(10))  # code | utm

    amount = money_property("amount_minor")


class UploadStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class InfluencerUpload(db.Model):
    """A CSV upload (a roster, orders or deliverable metrics) and the state of its jobs.

    The file waits on disk under UPLOAD_DIR (`path`: a bare file name; see core/uploads.py)
    until it is imported, then it is deleted. A roster is previewed first: a job computes the
    dry run once per mapping and stores it in `preview` (pages never read the file again);
    the import's report (counts, rejected rows) is kept in `result`. `stage` says which job
    `status` and `progress` are about.
    """

    __tablename__ = "influencer_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(20), default="roster")  # roster | orders | metrics
    path: Mapped[str] = mapped_column(String(255), default="")
    stage: Mapped[str] = mapped_column(String(20), default="preview")  # preview | import
    status: Mapped[str] = mapped_column(String(20), default=UploadStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    mapping: Mapped[dict | None] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    preview: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    job_id: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def busy(self) -> bool:
        return self.status in (UploadStatus.QUEUED, UploadStatus.RUNNING)

    @property
    def imported(self) -> bool:
        return self.stage == "import" and self.status == UploadStatus.DONE
