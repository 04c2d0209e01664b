"""What other packages may ask of influencers. Stable signatures; the influencers issue fills
them in. Imported lazily by budgets (inside functions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


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


def influencer_costs(campaign_ids: Iterable[int] | None = None) -> list[InfluencerCost]:
    return []


@dataclass(frozen=True)
class AttributedRevenue:
    campaign_id: int
    partnership_id: int
    currency: str
    revenue_minor: int
    orders: int
    day: date


def attributed_revenue(campaign_ids: Iterable[int] | None = None) -> list[AttributedRevenue]:
    return []
