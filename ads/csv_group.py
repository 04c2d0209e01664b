"""Rows of an export summed into facts: one per (account, campaign, day), in bounded memory.

Segmented exports (Google's network or device segments, TikTok's ad groups, hourly rows) have
several rows per campaign-day: they differ in a dimension column and are summed. Two rows that
agree on every dimension are one row twice: an exact repeat is counted once, a repeat with
other numbers (two exports pasted into one file) is refused; both are listed in the report.

`collect` reads the rows once: it checks each account's currency, notes every campaign's
latest name and status, and spools the rows into buckets by (account, campaign, month), so
all rows of one campaign-day, and every repeat of a row, share a bucket. `bucket_facts` then
sums one bucket at a time: memory holds one bucket, whatever the length of the file. A file
of up to BUCKET_ROWS rows is one bucket kept in memory; longer files spool to a temporary
directory, as `marshal` records.
"""

from __future__ import annotations

import marshal
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ads.csv_parse import Parsed
from ads.csv_rows import Row, RowError

BUCKET_ROWS = 20_000  # rows a bucket holds on average: its facts and repeat check stay small
MONTH = 32  # days of one campaign that share a bucket (so a batch of facts spans few days)


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
    """Everything one ad account gets from the file, but its facts (in the spool)."""

    currency: str
    name: str = ""
    campaigns: dict[str, tuple[date, str, str]] = field(default_factory=dict)  # latest name
    # Every name each campaign id had in the file (renames included): what an earlier
    # name-only export keyed it by.
    names: dict[str, set[str]] = field(default_factory=dict)
    rows: int = 0


# A row as spooled: what summing and the repeat check need, nothing else.
Spooled = tuple[int, str, str, int, str, int, int, str, str, int, int, int, int]


def _spooled(row: Row) -> Spooled:
    return (
        row.line,
        row.account,
        row.object_id,
        row.day.toordinal(),
        str(row.spend),
        row.impressions,
        row.clicks,
        str(row.conversions),
        str(row.value),
        row.reach,
        row.leads,
        row.dims,
        row.metrics,
    )


class Spool:
    """Buckets of rows: in memory for one bucket, else one file per bucket under a
    temporary directory that `close()` removes. Rows are written in blocks of BLOCK."""

    BLOCK = 256

    def __init__(self, expected_rows: int) -> None:
        self.count = max(1, math.ceil(expected_rows / BUCKET_ROWS))
        self._blocks: list[list[Spooled]] = [[] for _ in range(self.count)]
        self._paths: list[str] = []
        self._dir: tempfile.TemporaryDirectory | None = None
        if self.count > 1:
            self._dir = tempfile.TemporaryDirectory(prefix="flightdeck-import-")
            self._paths = [os.path.join(self._dir.name, f"{n}.rows") for n in range(self.count)]

    def add(self, row: Row) -> None:
        record = _spooled(row)
        if self.count == 1:
            self._blocks[0].append(record)
            return
        bucket = hash((row.account, row.object_id, record[3] // MONTH)) % self.count
        block = self._blocks[bucket]
        block.append(record)
        if len(block) >= self.BLOCK:
            self._write(bucket)

    def _write(self, bucket: int) -> None:
        with open(self._paths[bucket], "ab") as out:
            marshal.dump(self._blocks[bucket], out)
        self._blocks[bucket] = []

    def bucket(self, index: int) -> Iterator[Spooled]:
        if self.count == 1:
            yield from self._blocks[0]
            return
        if self._blocks[index]:
            self._write(index)
        if not os.path.exists(self._paths[index]):
            return
        with open(self._paths[index], "rb") as stream:
            while True:
                try:
                    block = marshal.load(stream)  # noqa: S302 - our own spool file
                except EOFError:
                    return
                yield from block

    def close(self) -> None:
        self._blocks = []
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def collect(
    parsed: Parsed, known_currency: Callable[[str], str | None], spool: Spool
) -> dict[str, Group]:
    """Read the rows once: one currency per account, as on every platform (`known_currency`
    is the currency of an account imported before), the campaigns' names, the rows spooled."""
    groups: dict[str, Group] = {}
    for row in parsed.rows:
        group = groups.get(row.account)
        if group is None:
            currency = known_currency(row.account) or row.currency
            if currency is None:
                _reject(
                    parsed,
                    row.line,
                    parsed.currency_column,
                    "no currency: the file has no currency column and the account is new, "
                    "so choose the account currency",
                )
                continue
            group = groups[row.account] = Group(currency)
        if row.currency is not None and row.currency != group.currency:
            _reject(
                parsed,
                row.line,
                parsed.currency_column,
                f"account {row.account} reports in {group.currency}, this row in "
                f"{row.currency}: give this export its own account id",
            )
            continue
        _note_campaign(group, row)
        spool.add(row)
    return {key: group for key, group in groups.items() if group.rows}


def _note_campaign(group: Group, row: Row) -> None:
    group.rows += 1
    group.name = group.name or row.account_name
    latest = group.campaigns.get(row.object_id)
    if latest is None or row.day >= latest[0]:
        group.campaigns[row.object_id] = (row.day, row.name, row.status)
    group.names.setdefault(row.object_id, set()).add(row.name)


FactKey = tuple[str, str, date]  # (account, campaign, day)


def bucket_facts(
    parsed: Parsed,
    records: Iterator[Spooled],
    currency_of: Callable[[str], str],
    refused: Callable[[str, str], str | None],
) -> dict[FactKey, Fact]:
    """Sum one bucket's rows into facts; a repeat, or a row whose campaign the importer may
    not change (`refused(account, campaign)` says why), is reported and left out."""
    facts: dict[FactKey, Fact] = {}
    seen: dict[int, tuple[int, int]] = {}  # row dims -> (line, row metrics)
    for record in records:
        line, account, object_id = record[0], record[1], record[2]
        why = refused(account, object_id)
        if why:
            _reject(parsed, line, parsed.campaign_column, why)
            continue
        if _repeated(parsed, record, seen):
            continue
        key = (account, object_id, date.fromordinal(record[3]))
        fact = facts.get(key)
        if fact is None:
            fact = facts[key] = Fact(currency_of(account))
        fact.spend += Decimal(record[4])
        fact.impressions += record[5]
        fact.clicks += record[6]
        fact.conversions += Decimal(record[7])
        fact.value += Decimal(record[8])
        # Reach is people, not events: segment rows overlap, so keep the largest.
        fact.reach = max(fact.reach, record[9])
        fact.leads += record[10]
    return facts


def _repeated(parsed: Parsed, record: Spooled, seen: dict[int, tuple[int, int]]) -> bool:
    line, dims, metrics = record[0], record[11], record[12]
    earlier = seen.get(dims)
    if earlier is None:
        seen[dims] = (line, metrics)
        return False
    first_line, first_metrics = earlier
    if first_metrics == metrics:
        problem = f"repeats row {first_line} exactly: counted once"
    else:
        hint = (
            "two exports in one file?"
            if parsed.has_campaign_id
            else "two campaigns with one name? export the report with the Campaign ID column"
        )
        problem = (
            f"the same campaign and day as row {first_line} with other numbers: row "
            f"{first_line} is kept, this row is not imported ({hint})"
        )
    _reject(parsed, line, parsed.campaign_column, problem)
    return True


def _reject(parsed: Parsed, line: int, column: str, problem: str) -> None:
    parsed.reject([RowError(line, column, problem)])
