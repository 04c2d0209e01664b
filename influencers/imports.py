"""Roster CSV import: column mapping, a dry-run preview, duplicates recognised by platform
handle (updated, never duplicated), a row-level error report. Good rows are kept, bad rows
listed; every data row ends up counted as created, updated, unchanged or rejected.

Orders and metrics imports live in `influencers.orders`; both share `ImportResult`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.money import Money
from core.types import utcnow
from influencers.csvread import (
    CsvProblem,
    CsvTable,
    RowError,
    iter_mapped,
    read_table,
)
from influencers.models import (
    DeliverableType,
    Influencer,
    InfluencerHandle,
    InfluencerRate,
    InfluencerStatus,
    SocialPlatform,
)
from influencers.roster_csv import Parsed, guess_mapping, mapping_errors, parse_row

PLATFORMS = [p.value for p in SocialPlatform]
TYPES = [t.value for t in DeliverableType]
PROFILE_FIELDS = ("name", "status", "country", "language", "contact_email", "contact_phone")


@dataclass
class ImportResult:
    kind: str = "roster"
    filename: str = ""
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    unattributed: int = 0
    errors: list[RowError] = field(default_factory=list)
    problem: str = ""  # the file as a whole could not be read

    @property
    def read_anything(self) -> bool:
        return not self.problem

    @property
    def message(self) -> str:
        if self.problem:
            return self.problem
        parts = [f"{self.created} created", f"{self.updated} updated"]
        parts += [f"{self.unchanged} unchanged", f"{self.rejected} rejected"]
        if self.kind == "orders":
            parts.append(f"{self.unattributed} not attributed")
        return f"{self.rows} rows read ({self.encoding}): " + ", ".join(parts) + "."


# --- plan and apply -------------------------------------------------------------------------


@dataclass
class Slot:
    """Everything the file says about one influencer (existing, or new)."""

    influencer_id: int | None
    rows: list[Parsed] = field(default_factory=list)


def _plan(table: CsvTable, mapping: dict[int, str], currency: str, result: ImportResult):
    owners: dict[tuple[str, str], int] = {
        (p, h): i
        for p, h, i in db.session.execute(
            select(
                InfluencerHandle.platform, InfluencerHandle.handle, InfluencerHandle.influencer_id
            )
        )
    }
    claimed: dict[tuple[str, str], Slot] = {}
    named: dict[str, Slot] = {}  # new influencers of this file, by name
    long_format = "platform" in mapping.values()
    by_id: dict[int, Slot] = {}
    slots: list[Slot] = []

    def owner_of(key: tuple[str, str]) -> Slot | None:
        slot = claimed.get(key)
        if slot is None and key in owners:
            slot = by_id.get(owners[key])
            if slot is None:
                slot = by_id[owners[key]] = Slot(owners[key])
        return slot

    for line, values in iter_mapped(table, mapping):
        result.rows += 1
        row, errors = parse_row(line, values, currency)
        found: list[Slot] = []
        if not errors:
            for key in row.handles:
                slot = owner_of(key)
                if slot is not None and all(slot is not s for s in found):
                    found.append(slot)
            if len(found) > 1:
                keys = ", ".join(f"{p}:{h}" for p, h in row.handles)
                errors.append(RowError(line, "—", f"{keys} belong to different influencers"))
            elif not found and not row.fields.get("name"):
                errors.append(RowError(line, "—", "a new influencer needs a name"))
        if errors:
            result.rejected += 1
            result.errors.extend(errors)
            continue
        name = (row.fields.get("name") or "").lower()
        if not found and long_format and name in named:
            found = [named[name]]  # one handle per row: the same name is the same person
        slot = found[0] if found else Slot(None)
        if not slot.rows:
            slots.append(slot)
            if slot.influencer_id is None and name:
                named[name] = slot
        slot.rows.append(row)
        for key in row.handles:
            claimed[key] = slot
    return slots


@dataclass
class Folded:
    """A slot's rows folded into one record: later non-blank values win."""

    fields: dict[str, Any]
    handles: dict[tuple[str, str], tuple[int | None, Decimal | None]]
    rates: dict[str, Money]


def _fold(slot: Slot) -> Folded:
    folded = Folded({}, {}, {})
    for row in slot.rows:
        for name, value in row.fields.items():
            if name == "niches":
                name, value = "niches_csv", f",{value}," if value else ""
            folded.fields[name] = value
        for key, (followers, engagement) in row.handles.items():
            old = folded.handles.get(key, (None, None))
            folded.handles[key] = (
                followers if followers is not None else old[0],
                engagement if engagement is not None else old[1],
            )
        folded.rates.update(row.rates)
    return folded


PROFILE_COLUMNS = (*PROFILE_FIELDS, "niches_csv", "notes")


def _differs(folded: Folded, profile: dict[str, Any], handles: dict, rates: dict) -> bool:
    """Would `folded` change this influencer? (Plain values, no ORM objects: this runs for
    every known influencer in the file.)"""
    if any(profile[k] != v for k, v in folded.fields.items()):
        return True
    for key, (followers, engagement) in folded.handles.items():
        if key not in handles:
            return True
        old_followers, old_engagement = handles[key]
        if (followers is not None and followers != old_followers) or (
            engagement is not None and engagement != old_engagement
        ):
            return True
    return any(rates.get(kind) != (m.currency, m.minor) for kind, m in folded.rates.items())


def _apply(inf: Influencer, folded: Folded) -> None:
    """Write `folded` onto an existing influencer through the ORM (so the change is audited)."""
    for name, value in folded.fields.items():
        setattr(inf, name, value)
    handles = {(h.platform, h.handle): h for h in inf.handles}
    for (platform, handle), (followers, engagement) in folded.handles.items():
        row = handles.get((platform, handle))
        if row is None:
            row = InfluencerHandle(platform=platform, handle=handle, followers=0)
            inf.handles.append(row)
        if followers is not None:
            row.followers = followers
        if engagement is not None:
            row.engagement_rate = engagement
    rates = {r.deliverable_type: r for r in inf.rates}
    for kind, amount in folded.rates.items():
        rate = rates.get(kind)
        if rate is None:
            rate = InfluencerRate(deliverable_type=kind)
            inf.rates.append(rate)
        rate.amount = amount


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _changed_ids(by_id: dict[int, Folded]) -> set[int]:
    changed: set[int] = set()
    for ids in _chunks(list(by_id)):
        columns = [getattr(Influencer, c) for c in PROFILE_COLUMNS]
        profiles = {
            row[0]: dict(zip(PROFILE_COLUMNS, row[1:], strict=True))
            for row in db.session.execute(
                select(Influencer.id, *columns).where(Influencer.id.in_(ids))
            )
        }
        handles: dict[int, dict] = {i: {} for i in ids}
        h = InfluencerHandle
        stmt = select(h.influencer_id, h.platform, h.handle, h.followers, h.engagement_rate)
        for iid, platform, handle, followers, rate in db.session.execute(
            stmt.where(h.influencer_id.in_(ids))
        ):
            handles[iid][(platform, handle)] = (followers, rate)
        rates: dict[int, dict] = {i: {} for i in ids}
        r = InfluencerRate
        stmt = select(r.influencer_id, r.deliverable_type, r.currency, r.amount_minor)
        for iid, kind, cur, minor in db.session.execute(stmt.where(r.influencer_id.in_(ids))):
            rates[iid][kind] = (cur, minor)
        for iid in ids:
            if iid in profiles and _differs(by_id[iid], profiles[iid], handles[iid], rates[iid]):
                changed.add(iid)
    return changed


def _run(
    table: CsvTable, mapping: dict[int, str], currency: str, result: ImportResult, write: bool
) -> None:
    slots = _plan(table, mapping, currency, result)
    existing = {s.influencer_id: s for s in slots if s.influencer_id is not None}
    new = [s for s in slots if s.influencer_id is None]
    folded = {iid: _fold(slot) for iid, slot in existing.items()}
    changed = _changed_ids(folded)
    for iid, slot in existing.items():
        if iid in changed:
            result.updated += len(slot.rows)
        else:
            result.unchanged += len(slot.rows)
    for slot in new:
        result.created += 1
        result.updated += len(slot.rows) - 1
    if not write:
        return
    for ids in _chunks(sorted(changed)):
        stmt = select(Influencer).where(Influencer.id.in_(ids))
        stmt = stmt.options(selectinload(Influencer.handles), selectinload(Influencer.rates))
        for inf in db.session.scalars(stmt):
            _apply(inf, folded[inf.id])
    _bulk_create([_fold(slot) for slot in new])
    db.session.flush()


def _allocate_ids(count: int) -> list[int]:
    """Ids for new influencers, so the bulk inserts below need no RETURNING round trips."""
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('influencers', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return [int(v) for (v,) in rows]
    # SQLite has one writer at a time; a concurrent import fails on the primary key instead.
    top = db.session.scalar(select(func.max(Influencer.id))) or 0
    return list(range(top + 1, top + 1 + count))


def _bulk_create(records: list[Folded]) -> None:
    """Insert new influencers in bulk: a 50,000-row roster must not take minutes."""
    if not records:
        return
    now = utcnow()
    ids = _allocate_ids(len(records))
    people, handles, rates = [], [], []
    blank = dict.fromkeys(PROFILE_COLUMNS, "") | {"status": InfluencerStatus.ACTIVE.value}
    for influencer_id, record in zip(ids, records, strict=True):
        person = blank | record.fields | {"id": influencer_id, "created_at": now, "updated_at": now}
        person["niches"] = person.pop("niches_csv")  # the column behind Influencer.niches_csv
        people.append(person)
        handles += [
            {
                "influencer_id": influencer_id,
                "platform": platform,
                "handle": handle,
                "followers": followers or 0,
                "engagement_rate": engagement,
            }
            for (platform, handle), (followers, engagement) in record.handles.items()
        ]
        rates += [
            {
                "influencer_id": influencer_id,
                "deliverable_type": kind,
                "currency": amount.currency,
                "amount_minor": amount.minor,
            }
            for kind, amount in record.rates.items()
        ]
    for model, rows in ((Influencer, people), (InfluencerHandle, handles), (InfluencerRate, rates)):
        if rows:
            db.session.execute(insert(model.__table__), rows)


@dataclass
class Preview:
    table: CsvTable | None
    mapping: dict[int, str]
    result: ImportResult
    mapping_problems: list[str]


def _open(data: bytes, mapping: dict[int, str] | None, filename: str) -> Preview:
    result = ImportResult(kind="roster", filename=filename)
    try:
        table = read_table(data)
    except CsvProblem as exc:
        result.problem = str(exc)
        return Preview(None, {}, result, [])
    result.encoding = table.encoding
    mapping = guess_mapping(table.headers) if mapping is None else mapping
    return Preview(table, mapping, result, mapping_errors(mapping))


def preview_roster(
    data: bytes, mapping: dict[int, str] | None = None, currency: str = "EUR", filename: str = ""
) -> Preview:
    """A dry run: what the import would do with this mapping; nothing is written."""
    preview = _open(data, mapping, filename)
    if preview.table is not None and not preview.mapping_problems:
        _run(preview.table, preview.mapping, currency, preview.result, write=False)
    return preview


def import_roster(
    data: bytes, mapping: dict[int, str] | None = None, currency: str = "EUR", filename: str = ""
) -> ImportResult:
    """Import a roster; flushes, the caller commits. `result.problem` when nothing was read."""
    preview = _open(data, mapping, filename)
    result = preview.result
    if preview.table is None or preview.mapping_problems:
        result.problem = result.problem or " ".join(preview.mapping_problems)
        return result
    _run(preview.table, preview.mapping, currency, result, write=True)
    record_import(result)
    return result


def record_import(result: ImportResult) -> None:
    """One audit entry per import (bulk inserts bypass the per-row audit hook)."""
    from core.audit import _current_actor
    from core.models import AuditEntry

    actor_id, actor_label = _current_actor()
    counts = {"created": result.created, "updated": result.updated, "rejected": result.rejected}
    counts |= {"unchanged": result.unchanged, "unattributed": result.unattributed}
    db.session.add(
        AuditEntry(
            actor_id=actor_id,
            actor_label=actor_label,
            action="import",
            object_type=f"{result.kind.title()}Import",
            object_id="-",
            object_label=result.filename[:300],
            changes={k: [None, v] for k, v in counts.items() if v},
        )
    )
