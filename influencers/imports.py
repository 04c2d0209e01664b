"""Roster CSV import: column mapping, a dry-run preview, duplicates recognised by platform
handle (updated, never duplicated), a row-level error report. Good rows are kept, bad rows
listed; every data row ends up counted as created, updated, unchanged or rejected. The file
is read as a stream, twice (`roster_plan`), so memory does not grow with its rows.

Orders and metrics imports live in `influencers.orders`; both share `ImportResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.types import utcnow
from core.uploads import Limits, Source
from influencers.csvread import CsvProblem, CsvTable, RowError, read_table
from influencers.models import (
    DeliverableType,
    Influencer,
    InfluencerHandle,
    InfluencerRate,
    InfluencerStatus,
    SocialPlatform,
)
from influencers.roster_csv import guess_mapping, mapping_errors
from influencers.roster_plan import NEW, Folded, folds, identify

PLATFORMS = [p.value for p in SocialPlatform]
MAX_ERRORS = 1000  # rejected rows' problems kept for the report; all are counted
ROSTER_MAX_ROWS = 100_000  # the default cap (config ROSTER_MAX_ROWS for uploads)
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
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0
    problem: str = ""  # the file as a whole could not be read

    def add_errors(self, errors: list[RowError]) -> None:
        """A row's problems: all counted, the first MAX_ERRORS kept for the report."""
        self.error_count += len(errors)
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        self.add_errors(errors)

    COUNTS = ("rows", "created", "updated", "unchanged", "rejected", "unattributed")

    def to_dict(self) -> dict[str, Any]:
        """What the upload row keeps: the counts and the report, as JSON."""
        return {
            "kind": self.kind,
            "filename": self.filename,
            "encoding": self.encoding,
            "problem": self.problem,
            "error_count": self.error_count,
            "errors": [[e.row, e.column, e.problem] for e in self.errors],
            **{name: getattr(self, name) for name in self.COUNTS},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportResult:
        result = cls(
            kind=data.get("kind", "roster"),
            filename=data.get("filename", ""),
            encoding=data.get("encoding", ""),
            problem=data.get("problem", ""),
            error_count=data.get("error_count", 0),
            errors=[RowError(*error) for error in data.get("errors", [])],
        )
        for name in cls.COUNTS:
            setattr(result, name, data.get(name, 0))
        return result

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


# --- apply ------------------------------------------------------------------------------------


PROFILE_COLUMNS = (*PROFILE_FIELDS, "niches_csv", "notes")
BATCH = 500  # folded influencers compared and written at a time


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
    table: CsvTable,
    mapping: dict[int, str],
    currency: str,
    result: ImportResult,
    write: bool,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Both passes of `roster_plan`; known influencers are compared (and, with `write`,
    updated) and new ones created a batch at a time, as their last rows go by."""

    def stage(low: int, high: int):
        def report(fraction: float) -> None:
            if progress is not None:
                progress(int(low + (high - low) * fraction))

        return report

    plan = identify(table, mapping, currency, result.reject, stage(0, 50))
    result.rows = len(plan.slot_of_row)
    known: dict[int, tuple[Folded, int]] = {}
    new: list[Folded] = []

    def flush() -> None:
        changed = _changed_ids({iid: folded for iid, (folded, _rows) in known.items()})
        for iid, (_folded, rows) in known.items():
            if iid in changed:
                result.updated += rows
            else:
                result.unchanged += rows
        if write:
            _update(changed, known)
            _bulk_create(new)
            db.session.flush()
        known.clear()
        new.clear()

    for slot, folded in folds(table, mapping, currency, plan, stage(50, 100)):
        rows, influencer_id = plan.rows[slot], plan.influencer[slot]
        if influencer_id == NEW:
            result.created += 1
            result.updated += rows - 1
            new.append(folded)
        else:
            known[influencer_id] = (folded, rows)
        if len(known) + len(new) >= BATCH:
            flush()
    flush()


def _update(changed: set[int], known: dict[int, tuple[Folded, int]]) -> None:
    for ids in _chunks(sorted(changed)):
        stmt = select(Influencer).where(Influencer.id.in_(ids))
        stmt = stmt.options(selectinload(Influencer.handles), selectinload(Influencer.rates))
        for inf in db.session.scalars(stmt):
            _apply(inf, known[inf.id][0])


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


def _open(
    data: bytes | Source, mapping: dict[int, str] | None, filename: str, limits: Limits | None
) -> Preview:
    result = ImportResult(kind="roster", filename=filename)
    try:
        table = read_table(data, limits or Limits(max_rows=ROSTER_MAX_ROWS))
    except CsvProblem as exc:
        result.problem = str(exc)
        return Preview(None, {}, result, [])
    result.encoding = table.encoding
    mapping = guess_mapping(table.headers) if mapping is None else mapping
    return Preview(table, mapping, result, mapping_errors(mapping))


def preview_roster(
    data: bytes | Source,
    mapping: dict[int, str] | None = None,
    currency: str = "EUR",
    filename: str = "",
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> Preview:
    """A dry run: what the import would do with this mapping; nothing is written."""
    preview = _open(data, mapping, filename, limits)
    if preview.table is not None and not preview.mapping_problems:
        _run(preview.table, preview.mapping, currency, preview.result, False, progress)
    return preview


def import_roster(
    data: bytes | Source,
    mapping: dict[int, str] | None = None,
    currency: str = "EUR",
    filename: str = "",
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a roster; flushes, the caller commits. `result.problem` when nothing was read.

    `data` is the file's bytes or a `Source` (an upload on disk), read as a stream, twice.
    """
    preview = _open(data, mapping, filename, limits)
    result = preview.result
    if preview.table is None or preview.mapping_problems:
        result.problem = result.problem or " ".join(preview.mapping_problems)
        return result
    _run(preview.table, preview.mapping, currency, result, True, progress)
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
