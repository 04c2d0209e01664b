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

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import aliased

from ads.csv_group import Group
from ads.csv_parse import Parsed
from ads.csv_platforms import ALIASES
from ads.csv_rows import MAX_AMOUNT, name_key
from ads.models import AdAccount, MappingSource, PlatformCampaign, Restatement, SpendFact
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
                _use_known_ids(account, group, parsed.notes)
            else:
                _adopt_name_keys(account, group, parsed.notes)
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


def _use_known_ids(account: AdAccount, group: Group, notes: list[str]) -> None:
    """A file without a campaign id column keys campaigns by name. When the account already
    has exactly one campaign of that name under its platform id (from an export with the id
    column), the rows go to it, so the two exports never count one campaign twice. A name
    that several ids carry stays under the name, and the report says so."""
    names = {object_id: name for object_id, (_day, name, _status) in group.campaigns.items()}
    known = _ids_by_name(account, set(names.values()))
    remap = {}
    for object_id, name in names.items():
        ids = known.get(name, set()) - {object_id}
        if len(ids) > 1:
            notes.append(
                f"“{name}” is the name of {len(ids)} campaigns of account {account.external_id} "
                f"(ids {', '.join(sorted(ids))}): its rows are kept under the name, apart from "
                "them. Export the report with the Campaign ID column to tell them apart."
            )
        elif len(ids) == 1 and object_id not in known.get(name, set()):
            remap[object_id] = ids.pop()
    if not remap:
        return
    group.campaigns = {remap.get(k, k): v for k, v in group.campaigns.items()}
    group.facts = {(remap.get(k, k), day): fact for (k, day), fact in group.facts.items()}


def _adopt_name_keys(account: AdAccount, group: Group, notes: list[str]) -> None:
    """The other order: a file with the campaign id column after one without. A campaign of
    the account still keyed by its name (`name_key`) is adopted by the one id of that name,
    so the two exports never count one campaign twice. When more than one id has the name
    (in this file or already in the account), nothing says which it was: it is kept apart
    and the report says so."""
    in_file: dict[str, set[str]] = {}
    for object_id, names in group.names.items():
        for name in names:
            in_file.setdefault(name, set()).add(object_id)
    # A name equal to an id of the file is that campaign's id, not a name key.
    by_key = {name_key(name): name for name in in_file if name_key(name) not in group.campaigns}
    keyed = [
        pc
        for pc in _campaigns(account, set(by_key))
        if pc.name == by_key[pc.external_id][:400]  # named as its key says: keyed by name
    ]
    known = _ids_by_name(account, {pc.name for pc in keyed})
    for pc in sorted(keyed, key=lambda pc: pc.external_id):
        name = by_key[pc.external_id]
        ids = (in_file[name] | known.get(pc.name, set())) - {pc.external_id}
        if len(ids) > 1:
            notes.append(
                f"“{name}” was imported before without its campaign id, and {len(ids)} "
                f"campaigns have that name (ids {', '.join(sorted(ids))}): it is kept apart, "
                "not merged into one of them, so its spend may overlap theirs."
            )
            continue
        (campaign_id,) = ids
        days = _move(account, pc, campaign_id)
        notes.append(
            f"“{name}” was imported before without its campaign id: its "
            f"{days} day{'' if days == 1 else 's'} now belong to campaign id {campaign_id} "
            "and are counted once."
        )


def _move(account: AdAccount, keyed: PlatformCampaign, campaign_id: str) -> int:
    """The name-keyed campaign's facts and restatements moved to `campaign_id`: the row is
    re-keyed (its mapping kept), or, when the id is known already, merged into it (a day
    both have keeps the id's numbers; a manual mapping moves over unless the id has one)."""
    old = keyed.external_id
    target = next(iter(_campaigns(account, {campaign_id})), None)
    theirs = aliased(SpendFact)
    dropped = db.session.execute(
        delete(SpendFact).where(
            SpendFact.platform_campaign_id == keyed.id,
            exists().where(
                theirs.account_id == account.id,
                theirs.object_id == campaign_id,
                theirs.level == SpendFact.level,
                theirs.day == SpendFact.day,
                theirs.attribution_setting == SpendFact.attribution_setting,
            ),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if target is None:
        target = keyed
        keyed.external_id = campaign_id
    elif (
        keyed.mapping_source == MappingSource.MANUAL
        and target.mapping_source != MappingSource.MANUAL
    ):
        target.campaign_id, target.mapping_source = keyed.campaign_id, keyed.mapping_source
    moved = db.session.execute(
        update(SpendFact)
        .where(SpendFact.platform_campaign_id == keyed.id, SpendFact.object_id == old)
        .values(object_id=campaign_id, platform_campaign_id=target.id),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.execute(
        update(Restatement)
        .where(Restatement.platform_campaign_id == keyed.id)
        .values(object_id=campaign_id, platform_campaign_id=target.id),
        execution_options={"synchronize_session": False},
    )
    if target is not keyed:
        db.session.delete(keyed)
    db.session.flush()
    return dropped + moved


def _campaigns(account: AdAccount, external_ids: set[str]) -> list[PlatformCampaign]:
    """The account's platform campaigns of these external ids, 500 at a time."""
    ordered, found = sorted(external_ids), []
    for start in range(0, len(ordered), 500):
        found += db.session.scalars(
            select(PlatformCampaign).where(
                PlatformCampaign.account_id == account.id,
                PlatformCampaign.external_id.in_(ordered[start : start + 500]),
            )
        )
    return found


def _ids_by_name(account: AdAccount, names: set[str]) -> dict[str, set[str]]:
    """The external ids of the account's platform campaigns of each name."""
    known: dict[str, set[str]] = {}
    values = sorted(names)
    for start in range(0, len(values), 500):
        found = db.session.execute(
            select(PlatformCampaign.name, PlatformCampaign.external_id).where(
                PlatformCampaign.account_id == account.id,
                PlatformCampaign.name.in_(values[start : start + 500]),
            )
        )
        for name, external_id in found:
            known.setdefault(name, set()).add(external_id)
    return known


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
