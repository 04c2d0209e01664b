"""Rows of an export summed into facts: one per (account, campaign, day).

Segmented exports (Google's network or device segments, TikTok's ad groups, hourly rows) have
several rows per campaign-day: they differ in a dimension column and are summed. Two rows that
agree on every dimension are one row twice: an exact repeat is counted once, a repeat with
other numbers (two exports pasted into one file) is refused; both are listed in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ads.csv_parse import Parsed
from ads.csv_rows import Row, RowError


@dataclass(slots=True)
class Fact:
    currency: str
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    reach: int = 0
    leads: int = 0


@dataclass
class Group:
    """Everything one ad account gets from the file."""

    currency: str
    name: str = ""
    campaigns: dict[str, tuple[date, str, str]] = field(default_factory=dict)  # latest name
    # Every name each campaign id had in the file (renames included): what an earlier
    # name-only export keyed it by.
    names: dict[str, set[str]] = field(default_factory=dict)
    facts: dict[tuple[str, date], Fact] = field(default_factory=dict)


def group_rows(parsed: Parsed, known_currency: Callable[[str], str | None]) -> dict[str, Group]:
    """Sum the rows per (account, campaign, day); one currency per account, as on every
    platform. `known_currency(account)` is the currency of an account imported before."""
    groups: dict[str, Group] = {}
    seen: dict[int, tuple[int, int]] = {}  # row dims -> (line, row metrics)
    for row in parsed.rows:
        group = groups.get(row.account)
        if group is None:
            currency = known_currency(row.account) or row.currency
            if currency is None:
                _reject(
                    parsed,
                    row,
                    parsed.currency_column,
                    "no currency: the file has no currency column and the account is new, "
                    "so choose the account currency",
                )
                continue
            group = groups[row.account] = Group(currency)
        if row.currency is not None and row.currency != group.currency:
            _reject(
                parsed,
                row,
                parsed.currency_column,
                f"account {row.account} reports in {group.currency}, this row in "
                f"{row.currency}: give this export its own account id",
            )
            continue
        if _repeated(parsed, row, seen):
            continue
        _add(group, row)
    return {key: group for key, group in groups.items() if group.facts}


def _repeated(parsed: Parsed, row: Row, seen: dict[int, tuple[int, int]]) -> bool:
    earlier = seen.get(row.dims)
    if earlier is None:
        seen[row.dims] = (row.line, row.metrics)
        return False
    line, metrics = earlier
    if metrics == row.metrics:
        problem = f"repeats row {line} exactly: counted once"
    else:
        hint = (
            "two exports in one file?"
            if parsed.has_campaign_id
            else "two campaigns with one name? export the report with the Campaign ID column"
        )
        problem = (
            f"the same campaign and day as row {line} with other numbers: row {line} is kept, "
            f"this row is not imported ({hint})"
        )
    _reject(parsed, row, parsed.campaign_column, problem)
    return True


def _reject(parsed: Parsed, row: Row, column: str, problem: str) -> None:
    parsed.reject([RowError(row.line, column, problem)])


def _add(group: Group, row: Row) -> None:
    group.name = group.name or row.account_name
    latest = group.campaigns.get(row.object_id)
    if latest is None or row.day >= latest[0]:
        group.campaigns[row.object_id] = (row.day, row.name, row.status)
    group.names.setdefault(row.object_id, set()).add(row.name)
    fact = group.facts.get((row.object_id, row.day))
    if fact is None:
        fact = group.facts[(row.object_id, row.day)] = Fact(group.currency)
    fact.spend += row.spend
    fact.impressions += row.impressions
    fact.clicks += row.clicks
    fact.conversions += row.conversions
    fact.value += row.value
    # Reach is people, not events: segment rows overlap, so keep the largest.
    fact.reach = max(fact.reach, row.reach)
    fact.leads += row.leads
