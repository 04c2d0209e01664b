"""Daily facts of an import stored: accounts, platform campaigns and facts, in batches.

`prepare` writes the accounts and platform campaigns (within the importer's `MapRights`),
`store_facts_of` one bucket of facts after another. Everything runs inside the caller's
SAVEPOINT: when the database refuses a write, nothing from the file stays (the caller records
the failed run). Amounts are rounded to minor units once, per day, half-even.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import groupby, islice

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import aliased

from ads.csv_formats import FileProblem
from ads.csv_group import MONTH, Fact, Group
from ads.csv_parse import Parsed
from ads.csv_platforms import ALIASES
from ads.csv_rows import MAX_AMOUNT, name_key
from ads.mapping import (
    CampaignIndex,
    MapRights,
    held_note,
    mapping_refusal,
    refresh_platform_campaign,
)
from ads.models import AdAccount, MappingSource, PlatformCampaign, Restatement, SpendFact
from ads.services import FactRow, UpsertCounts, csv_account, upsert_facts
from core.extensions import db
from core.money import exponent
from core.types import utcnow

BATCH_ROWS = 1000
MAX_CAMPAIGNS = 20_000  # platform campaigns one import may create or touch


@dataclass
class Prepared:
    """The accounts and platform campaigns of a file, ready for its facts."""

    accounts: dict[str, AdAccount] = field(default_factory=dict)  # by external id
    # (account, campaign as in the file) -> (platform campaign pk, stored object id, name)
    campaigns: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    # (account, campaign as in the file) -> why its rows are not imported
    refused: dict[tuple[str, str], str] = field(default_factory=dict)
    unreported: tuple[str, ...] = ()

    def refusal(self, account: str, object_id: str) -> str | None:
        return self.refused.get((account, object_id))


def prepare(platform: str, groups: dict[str, Group], parsed: Parsed, rights: MapRights) -> Prepared:
    """Each account (created on first import) and its platform campaigns, mapped within
    `rights`: a campaign already mapped to one the importer may not edit is refused (its rows
    become row errors), a naming-rule match on one is held back unmapped (a note says so).

    Raises FileProblem for a file of too many campaigns, what the database raises
    (SQLAlchemyError) otherwise. Runs inside the caller's SAVEPOINT.
    """
    total = sum(len(group.campaigns) for group in groups.values())
    if total > MAX_CAMPAIGNS:
        raise FileProblem(
            f"This file has {total:,} campaigns, more than the {MAX_CAMPAIGNS:,} one import "
            "takes: split it (by account or by campaign) and import the parts one by one."
        )
    prepared = Prepared(
        unreported=tuple(
            name
            for key, names in _STORED_AS.items()
            if key in ALIASES[platform] and key not in parsed.layout.columns
            for name in names
        )
    )
    index = CampaignIndex()
    for external_id, group in sorted(groups.items()):
        account = csv_account(platform, external_id, group.currency, group.name[:200])
        prepared.accounts[external_id] = account
        if parsed.has_campaign_id:
            remap: dict[str, str] = {}
            _adopt_name_keys(account, group, parsed.notes, rights)
        else:
            remap = _use_known_ids(account, group, parsed.notes)
        wanted = {*remap.values(), *group.campaigns}
        known = {pc.external_id: pc for pc in _campaigns(account, wanted)}
        kept: dict[str, tuple[PlatformCampaign, str, str]] = {}
        for object_id, (_day, name, status) in sorted(group.campaigns.items()):
            stored_id = remap.get(object_id, object_id)
            pc = known.get(stored_id)
            refusal = mapping_refusal(pc, rights) if pc is not None else None
            if refusal:
                prepared.refused[(external_id, object_id)] = f"{refusal}: this row was not imported"
                continue
            if pc is None:
                pc = known[stored_id] = PlatformCampaign(
                    account_id=account.id, external_id=stored_id
                )
                db.session.add(pc)
            refresh_platform_campaign(pc, name, status, rights=rights, index=index)
            kept[object_id] = (pc, stored_id, name)
        db.session.flush()  # one round of inserts for the account's new campaigns
        for object_id, (pc, stored_id, name) in kept.items():
            if pc.mapping_source == MappingSource.HELD.value:
                parsed.notes.append(held_note(pc, rights))
            prepared.campaigns[(external_id, object_id)] = (pc.id, stored_id, name)
        account.last_synced_at = utcnow()
    db.session.flush()
    return prepared


def store_facts_of(
    prepared: Prepared, facts: dict[tuple[str, str, date], Fact], run_id: int
) -> UpsertCounts:
    """Write one bucket's facts, account by account, a batch at a time. Raises what the
    database raises, or ValueError for an amount too large to store."""
    counts = UpsertCounts()
    ordered = sorted(
        facts.items(),
        key=lambda item: (item[0][0], item[0][2].toordinal() // MONTH, item[0][1], item[0][2]),
    )
    for external_id, rows in groupby(ordered, key=lambda item: item[0][0]):
        account = prepared.accounts[external_id]
        digits = exponent(account.currency)
        fact_rows = (
            _fact_row(prepared.campaigns[(external_id, object_id)], day, fact, digits)
            for (_account, object_id, day), fact in rows
        )
        while batch := list(islice(fact_rows, BATCH_ROWS)):
            batch = _keep_unreported(account, batch, prepared.unreported)
            counts.add(upsert_facts(account, batch, run_id))
    return counts


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


def _use_known_ids(account: AdAccount, group: Group, notes: list[str]) -> dict[str, str]:
    """A file without a campaign id column keys campaigns by name. When the account already
    has exactly one campaign of that name under its platform id (from an export with the id
    column), the rows go to it, so the two exports never count one campaign twice. A name
    that several ids carry stays under the name, and the report says so. Returns the file's
    campaign keys that are stored under another id."""
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
    return remap


def _adopt_name_keys(account: AdAccount, group: Group, notes: list[str], rights: MapRights) -> None:
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
        target = next(iter(_campaigns(account, {campaign_id})), None)
        refusal = mapping_refusal(pc, rights) or (
            mapping_refusal(target, rights) if target is not None else None
        )
        if refusal:
            notes.append(
                f"“{name}” was imported before without its campaign id, but it is kept apart "
                f"from campaign id {campaign_id}: {refusal}."
            )
            continue
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


def _fact_row(campaign: tuple[int, str, str], day: date, fact: Fact, digits: int) -> FactRow:
    pk, object_id, name = campaign
    return FactRow(
        platform_campaign_id=pk,
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
        object_name=name,
    )


def _minor(amount: Decimal, digits: int) -> int:
    """A day's sum in minor units, rounded half-even once (as `core.money.Money.of`)."""
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError("an amount is too large to store")
    return int(amount.scaleb(digits).to_integral_value(rounding=ROUND_HALF_EVEN))


def _whole(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))
