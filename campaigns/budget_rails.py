"""Campaign edits against the money budget lines hold for the campaign (budgets/api.py)."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from core.money import Money
from core.rules import Problem


def budget_problems(campaign: Campaign, data: dict[str, Any]) -> list[Problem]:
    """Guard rails from the budget side: while budget lines hold money for the campaign, its
    currency is fixed, its planned budget stays at or above what they hold, and its flight
    keeps overlapping the period of every budget holding money for it."""
    from budgets.api import campaign_holdings

    holdings = campaign_holdings(campaign.id)
    if not holdings:
        return []
    problems: list[Problem] = []
    mine = [h for h in holdings if h.held.currency == campaign.currency]
    held = sum((h.held for h in mine), Money.zero(campaign.currency))
    approved = sum((h.approved for h in mine), Money.zero(campaign.currency))
    names = ", ".join(f"“{h.budget_name}”" for h in holdings)
    currency = data.get("currency")
    if currency and currency != campaign.currency:
        problems.append(
            (
                "currency",
                f"Budget lines in {names} hold money in {campaign.currency} for this campaign: "
                "its currency is fixed while they do. Withdraw or reject them first.",
            )
        )
    planned = data.get("planned_budget")
    if isinstance(planned, Money) and planned.currency == campaign.currency and planned < held:
        problems.append(
            (
                "planned_budget",
                f"Budget lines hold {held} for this campaign ({approved} of it approved): the "
                "planned budget cannot go below that. Withdraw lines or reallocate approved "
                "money first.",
            )
        )
    start = data.get("start_date") or campaign.start_date
    end = data.get("end_date") or campaign.end_date
    for h in holdings:
        where = f"“{h.budget_name}” ({h.start:%d %b %Y} – {h.end:%d %b %Y}) holds {h.held}"
        if end < h.start:
            problems.append(
                (
                    "end_date",
                    f"{where} for this campaign: the flight must end on or after "
                    f"{h.start:%d %b %Y} while it does.",
                )
            )
        elif start > h.end:
            problems.append(
                (
                    "start_date",
                    f"{where} for this campaign: the flight must start on or before "
                    f"{h.end:%d %b %Y} while it does.",
                )
            )
    return problems
