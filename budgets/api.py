"""What other packages may ask of budgets. Stable signatures; the budgets issue fills them in.

Imported lazily by influencers (inside functions) so the two packages do not import each other
at module load.
"""

from __future__ import annotations

from datetime import date

from core.money import Money


def influencer_allocation(campaign_id: int, currency: str) -> Money | None:
    """Approved planned amount on the campaign's "influencers" channel lines, in `currency`.

    None when the campaign has no approved influencer allocation at all.
    """
    return None


def convert(amount: Money, to_currency: str, on: date) -> Money | None:
    """`amount` in `to_currency` at the rate of `on` (or the nearest earlier); None if missing."""
    if amount.currency == to_currency:
        return amount
    return None
