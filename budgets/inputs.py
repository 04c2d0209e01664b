"""Reading what a budget form posted: the refusal type, amounts in a currency's precision,
whole numbers in a range, per-role allow-lists, a campaign picked by id, a note."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from campaigns.models import Campaign
from core import rules
from core.extensions import db
from core.money import Money, MoneyError
from core.rules import RuleError

MAX_ID = 2**31 - 1


class BudgetError(RuleError):
    """A budget rule refused the change (every problem found, each with its form field)."""


class Problems(rules.Problems):
    def __init__(self) -> None:
        super().__init__(BudgetError)


def allowed(data: Mapping[str, Any], table: Mapping[str, Sequence[str]], role: str) -> dict:
    keys = table.get(role, ())
    return {k: v for k, v in data.items() if k in keys}


def parse_money(text: Any, currency: str, field: str, positive: bool = False) -> Money:
    """`text` as money in `currency`; `positive`: zero is refused too (a request for
    nothing would still hold its campaign × channel)."""
    if text is None or not str(text).strip():
        raise BudgetError("Enter an amount, e.g. 12000 or 12,000.50.", field)
    try:
        value = Money.of(text if text not in (None, "") else "", currency)
    except MoneyError as exc:
        raise BudgetError(str(exc).rstrip(".") + ".", field) from None
    if value.is_negative():
        raise BudgetError("Amounts cannot be negative.", field)
    if positive and value.minor == 0:
        raise BudgetError(f"Enter an amount above {value}.", field)
    return value


def int_in(value: Any, low: int, high: int, field: str, what: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise BudgetError(f"{what} must be a whole number.", field) from None
    if not low <= number <= high:
        raise BudgetError(f"{what} must be between {low} and {high}.", field)
    return number


def find_campaign(value: Any) -> Campaign:
    try:
        campaign_id = int(str(value))
    except (TypeError, ValueError):
        raise BudgetError("Choose a campaign.", "campaign_id") from None
    campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
    if campaign is None:
        raise BudgetError("Choose a campaign from the list.", "campaign_id")
    return campaign


def note_text(value: Any) -> str:
    text = str(value or "").strip()
    if len(text) > 2000 or "\x00" in text:
        raise BudgetError("Keep the note under 2,000 printable characters.", "note")
    return text
