"""Daily facts of an import stored: accounts, platform campaigns and facts, in batches.

Everything runs inside one SAVEPOINT: when the database refuses a write, nothing from the
file stays (the caller records the failed run). Amounts are rounded to minor units once, per
day, half-even.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice

from sqlalchemy import select

from ads.csv_group import Group
from ads.csv_parse import Parsed
from ads.csv_platforms import ALIASES
from ads.csv_rows import MAX_AMOUNT
from ads.models import AdAccount, PlatformCampaign, SpendFact
from ads.services import (
    FactRow,
    UpsertCounts,
    csv_account,
    upsert_facts,
    upsert_platform_campaign,
)
from core.extensions import db
from core.money import exponent
from core.types import utcnow

BATCH_ROWS = 1000


def store(
    platform: str, groups: dict[str, Group], run_id: int, parsed: Parsed
) -> tuple[UpsertCounts, list[AdAccount]]:
    """Write each account's facts (created on first import) and its platform campaigns.

    Raises what the database raises (SQLAlchemyError) or ValueError for an amount too large;
    the SAVEPOINT is then rolled back and nothing from the file is left in the session.
    """
    by_name = not parsed.has_campaign_id
    unreported = tuple(
        name
        for key, names in _STORED_AS.items()
        if key in ALIASES[platform] and key not in parsed.layout.columns
        for name in names
    )
    counts = UpsertCounts()
    accounts = []
    with db.session.begin_nested():
        for external_id, group in sorted(groups.items()):
            account = csv_account(platform, external_id, group.currency, group.name[:200])
            if by_name:
                _use_known_ids(account, group)
            campaign_pk = {
                object_id: upsert_platform_campaign(account, object_id, name, status).id
                for object_id, (_day, name, status) in sorted(group.campaigns.items())
            }
            rows = _fact_rows(group, campaign_pk)
            while batch := list(islice(rows, BATCH_ROWS)):
                batch = _keep_unreported(account, batch, unreported)
                counts.add(upsert_facts(account, batch, run_id))
            account.last_synced_at = utcnow()
            accounts.append(account)
        db.session.flush()
    return counts, accounts


# The stored fields of each metric an export may lack.
_STORED_AS = {
    "impressions": ("impressions",),
    "clicks": ("clicks",),
    "reach": ("reach",),
    "leads": ("leads",),
    "conversions": ("conversions", "purchases"),
    "conversion_value": ("conversion_value_minor",),
}


def _keep_unreported(account: AdAccount, batch: list[FactRow], fields: tuple[str, ...]):
    """A metric the file has no column for is not reported as 0 over what an earlier, wider
    export stored: an export without Conversions leaves the days' conversions as they were."""
    if not fields:
        return batch
    objects = sorted({row.object_id for row in batch})
    days = [row.day for row in batch]
    known: dict[tuple[str, date], tuple] = {}
    for start in range(0, len(objects), 500):
        found = db.session.execute(
            select(
                SpendFact.object_id, SpendFact.day, *(getattr(SpendFact, f) for f in fields)
            ).where(
                SpendFact.account_id == account.id,
                SpendFact.level == "campaign",
                SpendFact.attribution_setting == "",
                SpendFact.object_id.in_(objects[start : start + 500]),
                SpendFact.day >= min(days),
                SpendFact.day <= max(days),
            )
        )
        for object_id, day, *values in found:
            known[(object_id, day)] = tuple(values)
    if not known:
        return batch
    return [
        replace(row, **dict(zip(fields, known[(row.object_id, row.day)], strict=True)))
        if (row.object_id, row.day) in known
        else row
        for row in batch
    ]


def _use_known_ids(account: AdAccount, group: Group) -> None:
    """A file without a campaign id column keys campaigns by name. When the account already
    has exactly one campaign of that name under its platform id (from an export with the id
    column), the rows go to it, so the two exports never count one campaign twice."""
    names = {object_id: name for object_id, (_day, name, _status) in group.campaigns.items()}
    known: dict[str, set[str]] = {}
    values = sorted(set(names.values()))
    for start in range(0, len(values), 500):
        found = db.session.execute(
            select(PlatformCampaign.name, PlatformCampaign.external_id).where(
                PlatformCampaign.account_id == account.id,
                PlatformCampaign.name.in_(values[start : start + 500]),
            )
        )
        for name, external_id in found:
            known.setdefault(name, set()).add(external_id)
    remap = {}
    for object_id, name in names.items():
        ids = known.get(name, set()) - {object_id}
        if len(ids) == 1 and object_id not in known.get(name, set()):
            remap[object_id] = ids.pop()
    if not remap:
        return
    group.campaigns = {remap.get(k, k): v for k, v in group.campaigns.items()}
    group.facts = {(remap.get(k, k), day): fact for (k, day), fact in group.facts.items()}


def _fact_rows(group: Group, campaign_pk: dict[str, int]) -> Iterator[FactRow]:
    digits = exponent(group.currency)
    for (object_id, day), fact in sorted(group.facts.items()):
        yield FactRow(
            platform_campaign_id=campaign_pk[object_id],
            level="campaign",
            object_id=object_id,
            day=day,
            attribution_setting="",
            currency=fact.currency,
            spend_minor=_minor(fact.spend, digits),
            impressions=fact.impressions,
            clicks=fact.clicks,
            reach=fact.reach,
            # Google reports fractional conversions (data-driven attribution); the
            # column is an integer, so the day's sum is rounded once, half-even.
            purchases=_whole(fact.conversions),
            leads=fact.leads,
            conversions=_whole(fact.conversions),
            conversion_value_minor=_minor(fact.value, digits),
            object_name=group.campaigns[object_id][1],
        )


def _minor(amount: Decimal, digits: int) -> int:
    """A day's sum in minor units, rounded half-even once (as `core.money.Money.of`)."""
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError("an amount is too large to store")
    return int(amount.scaleb(digits).to_integral_value(rounding=ROUND_HALF_EVEN))


def _whole(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))
