"""A roster file read twice as a stream, in memory that does not grow with the rows kept.

Pass one (`identify`) decides which influencer each row belongs to: a known one (by platform
handle: the handles of each block of rows are looked up in the database), one created by an
earlier row of the file, or a new one. It keeps, per row, only a slot number, and per slot
its influencer id and its last row: arrays of machine integers. Handles seen are remembered
by their 64-bit hash in an `IntMap` (a collision between two of a file's handles is about
1 in 10^9 for 100,000 rows), with the rows' errors in the report.

Pass two (`folds`) reads the rows again and folds each slot's rows into one record, later
non-blank values winning; a slot is handed on as soon as its last row is read, so only the
slots whose rows are still to come are held.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.intmap import IntMap
from core.money import Money
from influencers.csvread import CsvTable, RowError, iter_mapped
from influencers.models import InfluencerHandle
from influencers.roster_csv import Parsed, parse_row

BLOCK = 1000  # rows whose handles are looked up in one query
NEW = -1  # a slot's influencer id when it is created by the import


@dataclass
class Plan:
    slot_of_row: array = field(default_factory=lambda: array("q"))  # -1: the row is rejected
    influencer: array = field(default_factory=lambda: array("q"))  # per slot; NEW
    rows: array = field(default_factory=lambda: array("q"))  # per slot
    last_row: array = field(default_factory=lambda: array("q"))  # per slot

    def new_slot(self, influencer_id: int | None) -> int:
        self.influencer.append(NEW if influencer_id is None else influencer_id)
        self.rows.append(0)
        self.last_row.append(-1)
        return len(self.influencer) - 1


@dataclass
class Folded:
    """A slot's rows folded into one record: later non-blank values win."""

    fields: dict[str, Any] = field(default_factory=dict)
    handles: dict[tuple[str, str], tuple[int | None, Decimal | None]] = field(default_factory=dict)
    rates: dict[str, Money] = field(default_factory=dict)

    def add(self, row: Parsed) -> None:
        for name, value in row.fields.items():
            if name == "niches":
                name, value = "niches_csv", f",{value}," if value else ""
            self.fields[name] = value
        for key, (followers, engagement) in row.handles.items():
            old = self.handles.get(key, (None, None))
            self.handles[key] = (
                followers if followers is not None else old[0],
                engagement if engagement is not None else old[1],
            )
        self.rates.update(row.rates)


Report = Callable[[float], None]


def identify(
    table: CsvTable,
    mapping: dict[int, str],
    currency: str,
    reject: Callable[[list[RowError]], None],
    report: Report,
) -> Plan:
    """Pass one: every row's slot; rejected rows go to `reject` with their reasons."""
    plan = Plan()
    claimed = IntMap()  # hash of (platform, handle) -> slot
    named = IntMap()  # hash of a new influencer's name (one-handle rows) -> slot
    by_influencer = IntMap()  # known influencer id -> slot
    long_format = "platform" in mapping.values()
    rows = iter_mapped(table, mapping)
    while block := list(islice(rows, BLOCK)):
        parsed = [(line, *parse_row(line, values, currency)) for line, values in block]
        owners = _owners(
            {key for _line, row, errors in parsed if not errors for key in row.handles}
        )
        for line, row, errors in parsed:
            found: list[int] = []
            if not errors:
                for key in row.handles:
                    slot = claimed.get(hash(key))
                    if slot is None and key in owners:
                        slot = by_influencer.get(owners[key])
                        if slot is None:
                            slot = by_influencer[owners[key]] = plan.new_slot(owners[key])
                    if slot is not None and slot not in found:
                        found.append(slot)
                if len(found) > 1:
                    keys = ", ".join(f"{p}:{h}" for p, h in row.handles)
                    errors.append(RowError(line, "—", f"{keys} belong to different influencers"))
                elif not found and not row.fields.get("name"):
                    errors.append(RowError(line, "—", "a new influencer needs a name"))
            if errors:
                reject(errors)
                plan.slot_of_row.append(-1)
                continue
            name = (row.fields.get("name") or "").lower()
            if not found and long_format and hash(name) in named:
                found = [named[hash(name)]]  # one handle per row: one name is one person
            slot = found[0] if found else plan.new_slot(None)
            if long_format and plan.rows[slot] == 0 and plan.influencer[slot] == NEW and name:
                named[hash(name)] = slot
            plan.rows[slot] += 1
            plan.last_row[slot] = len(plan.slot_of_row)
            plan.slot_of_row.append(slot)
            for key in row.handles:
                claimed[hash(key)] = slot
        report(table.fraction_read())
    return plan


def _owners(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which known influencer holds each of these handles."""
    owners: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, handle in sorted(keys):
        by_platform.setdefault(platform, []).append(handle)
    h = InfluencerHandle
    for platform, handles in by_platform.items():
        for start in range(0, len(handles), 500):
            # By platform and handle: the unique index answers, not a scan of every handle.
            found = db.session.execute(
                select(h.handle, h.influencer_id).where(
                    h.platform == platform, h.handle.in_(handles[start : start + 500])
                )
            )
            for handle, influencer_id in found:
                owners[(platform, handle)] = influencer_id
    return owners


def folds(
    table: CsvTable, mapping: dict[int, str], currency: str, plan: Plan, report: Report
) -> Iterator[tuple[int, Folded]]:
    """Pass two: (slot, its folded record), each as soon as the slot's last row is read."""
    open_slots: dict[int, Folded] = {}
    for index, (line, values) in enumerate(iter_mapped(table, mapping)):
        slot = plan.slot_of_row[index]
        if slot < 0:
            continue
        row, _errors = parse_row(line, values, currency)
        folded = open_slots.get(slot)
        if folded is None:
            folded = open_slots[slot] = Folded()
        folded.add(row)
        if plan.last_row[slot] == index:
            yield slot, open_slots.pop(slot)
        if index % BLOCK == 0:
            report(table.fraction_read())
