"""What other packages may ask of influencers. Stable signatures; the influencers issue fills
them in. Imported lazily by budgets (inside functions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.money import Money


@dataclass(frozen=True)
class InfluencerCost:
    """One payment milestone of a contracted partnership (or the whole fee if it has none).

    state: "committed" (contracted, not yet payable), "payable" or "paid". The amounts of one
    partnership add up to its fee exactly, so summing rows never double-counts.
    """

    campaign_id: int
    partnership_id: int
    currency: str
    amount_minor: int
    state: str
    day: date  # paid date when paid, else due date, else the contract start


STATE_OF = {"pending": "committed", "payable": "payable", "paid": "paid"}


def influencer_costs(campaign_ids: Iterable[int] | None = None) -> list[InfluencerCost]:
    """Costs of contracted, active and completed partnerships, one row per milestone.

    A cancelled partnership keeps only what was actually paid. Zero amounts are left out.
    """
    from core.extensions import db
    from influencers.models import COMMITTED_STATUSES, Partnership, PartnershipStatus

    shown = (*COMMITTED_STATUSES, PartnershipStatus.CANCELLED.value)
    stmt = (
        select(Partnership)
        .where(Partnership.status.in_(shown))
        .options(selectinload(Partnership.milestones))
        .order_by(Partnership.campaign_id, Partnership.id)
    )
    if campaign_ids is not None:
        stmt = stmt.where(Partnership.campaign_id.in_(list(campaign_ids)))
    rows: list[InfluencerCost] = []
    for p in db.session.scalars(stmt).unique():
        start = p.start_date or (p.contracted_at.date() if p.contracted_at else date.today())

        def add(amount: int, state: str, day: date, p=p) -> None:
            if amount:
                rows.append(InfluencerCost(p.campaign_id, p.id, p.currency, amount, state, day))

        cancelled = p.status == PartnershipStatus.CANCELLED.value
        for m in p.milestones:
            if cancelled and m.status != "paid":
                continue
            day = m.paid_on if m.status == "paid" and m.paid_on else (m.due_date or start)
            add(m.amount_minor, STATE_OF[m.status], day)
        if not cancelled:
            # Milestones cover the fee exactly once contracted; anything left is committed.
            add(p.fee_minor - sum(m.amount_minor for m in p.milestones), "committed", start)
    return rows


def contracted_fees(campaign_id: int, currency: str) -> Money | None:
    """Fees contracted with influencers on a campaign (contracted, active, completed), in
    `currency` at each contract day's rate; None when a rate is missing."""
    from influencers.partnerships import committed_in
    from influencers.services import InfluencerError

    try:
        return committed_in(campaign_id, currency)
    except InfluencerError:
        return None


@dataclass(frozen=True)
class AttributedRevenue:
    campaign_id: int
    partnership_id: int
    currency: str
    revenue_minor: int
    orders: int
    day: date


def attributed_revenue(campaign_ids: Iterable[int] | None = None) -> list[AttributedRevenue]:
    """Attributed order revenue per partnership, currency and day."""
    from core.extensions import db
    from influencers.models import AttributedOrder, Partnership

    o = AttributedOrder
    stmt = (
        select(
            Partnership.campaign_id,
            o.partnership_id,
            o.currency,
            func.sum(o.amount_minor),
            func.count(o.id),
            o.ordered_on,
        )
        .join(Partnership, Partnership.id == o.partnership_id)
        .group_by(Partnership.campaign_id, o.partnership_id, o.currency, o.ordered_on)
        .order_by(Partnership.campaign_id, o.partnership_id, o.ordered_on, o.currency)
    )
    if campaign_ids is not None:
        stmt = stmt.where(Partnership.campaign_id.in_(list(campaign_ids)))
    return [
        AttributedRevenue(cid, pid, cur, int(total or 0), int(count), day)
        for cid, pid, cur, total, count, day in db.session.execute(stmt)
    ]
