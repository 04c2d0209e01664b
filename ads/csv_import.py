"""Import the daily campaign CSV exports of Google Ads, TikTok Ads and LinkedIn Campaign Manager.

Files are read the way the platforms write them: title and metadata lines above the header,
UTF-8 / UTF-8 with BOM / UTF-16 (Google's "Excel CSV") / cp1252, `,` `;` or tab separated,
numbers like `1,234.56`, `1.234,56`, `$12.00`, `--`, and trailing `Total` rows. Rows of one
(account, campaign, day) within a file (segmented exports) are summed, so the stored facts are
the same however often the same file is imported.

Transaction: `import_csv` flushes and never commits. The caller (the upload view, the CLI)
commits once, so accounts, platform campaigns, facts and the `SyncRun` ledger row land together.
The writes for the rows run inside a SAVEPOINT: if the database refuses any of them, all are
rolled back and only the failed run row is left for the caller to commit.

The reading lives beside this module: `csv_platforms` (each platform's column names),
`csv_formats` (decoding, header detection), `csv_cells` (numbers and dates), `csv_rows`
(records checked into rows or errors) and `csv_group` (rows summed into daily facts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ads.csv_cells import short
from ads.csv_formats import FileProblem
from ads.csv_group import Group, group_rows
from ads.csv_platforms import PLATFORM_LABELS
from ads.csv_rows import MAX_AMOUNT, MAX_ERRORS, MAX_ID_LENGTH, Parsed, RowError, parse_file
from ads.models import AdAccount, PlatformCampaign, RunStatus, SpendFact, SyncRun
from ads.services import (
    FactRow,
    UpsertCounts,
    csv_account,
    upsert_facts,
    upsert_platform_campaign,
)
from core.extensions import db
from core.money import exponent, known_currencies
from core.types import utcnow

__all__ = ["ImportResult", "RowError", "import_csv"]

log = logging.getLogger(__name__)

BATCH_ROWS = 1000


@dataclass
class ImportResult:
    run_id: int | None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    message: str = ""
    encoding: str = ""
    status: str = RunStatus.FAILED.value
    error_count: int = 0
    header_row: int | None = None


# --- storing ------------------------------------------------------------------------------------


def _store(platform: str, groups: dict[str, Group], run_id: int, parsed: Parsed):
    by_name = not parsed.has_campaign_id
    unreported = tuple(
        name
        for key, names in _STORED_AS.items()
        if key not in parsed.layout.columns
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


# --- entry point ------------------------------------------------------------------------------


def import_csv(
    platform: str,
    data: bytes,
    *,
    filename: str = "",
    account_id: str | None = None,
    currency: str | None = None,
    user_id: int | None = None,
) -> ImportResult:
    """Import one daily campaign export; never raises for bad input.

    `account_id` and `currency` are used only when the file has no account / currency column.
    Good rows are stored, bad rows are reported as `RowError`s (line, column, problem) and
    recorded with the counts on a `SyncRun` (kind "csv_import"). A file-level problem (empty,
    binary, no header, another platform's export) stores nothing but the failed run row.
    Flushes, does not commit: the caller commits once, so the import is one transaction.
    """
    run = SyncRun(
        kind="csv_import",
        status=RunStatus.RUNNING.value,
        source_name=(filename or "")[:300],
        started_by_id=user_id,
        details={"platform": platform},
    )
    db.session.add(run)
    db.session.flush()
    try:
        parsed = _parse_arguments_and_file(platform, data, account_id, currency)
        groups = _read_rows(parsed, platform)
    except FileProblem as exc:
        return _finish_failed(run, str(exc), exc.encoding, exc.header_row)
    counts, accounts = UpsertCounts(), []
    if groups:
        try:
            counts, accounts = _store(platform, groups, run.id, parsed)
        except (SQLAlchemyError, ValueError) as exc:
            log.exception("CSV import %s refused by the database", run.id)
            return _finish_failed(
                run,
                f"The database refused this import ({type(exc).__name__}); nothing from the file "
                "was stored.",
                parsed.encoding,
                parsed.layout.header_line,
            )
    return _finish(run, platform, parsed, groups, counts, accounts)


def _parse_arguments_and_file(
    platform: str, data: bytes, account_id: str | None, currency: str | None
) -> Parsed:
    if platform not in PLATFORM_LABELS:
        raise FileProblem(f"Unknown platform {platform!r}: choose {', '.join(PLATFORM_LABELS)}.")
    if not isinstance(data, bytes | bytearray):
        raise FileProblem("No file was uploaded.")
    account_id = (account_id or "").strip() or f"{platform}-default"
    if len(account_id) > MAX_ID_LENGTH:
        raise FileProblem(f"The account id is longer than {MAX_ID_LENGTH} characters.")
    if currency:
        currency = currency.strip().upper()
        if currency not in known_currencies():
            raise FileProblem(f"{short(currency)} is not an ISO 4217 currency code.")
    try:
        return parse_file(platform, bytes(data), account_id, currency or None)
    except FileProblem:
        raise
    except Exception as exc:  # a parser bug must not become a 500 or a partial write
        log.exception("CSV import could not parse the file")
        raise FileProblem(f"The file could not be read ({type(exc).__name__}).") from None


def _read_rows(parsed: Parsed, platform: str) -> dict[str, Group]:
    currencies: dict[str, str | None] = {}

    def known_currency(external_id: str) -> str | None:
        if external_id not in currencies:
            currencies[external_id] = db.session.scalar(
                select(AdAccount.currency).where(
                    AdAccount.platform == platform, AdAccount.external_id == external_id
                )
            )
        return currencies[external_id]

    try:
        return group_rows(parsed, known_currency)
    except FileProblem as exc:
        exc.encoding = exc.encoding or parsed.encoding
        raise
    except SQLAlchemyError as exc:
        log.exception("CSV import: the database failed while reading the rows")
        raise FileProblem(
            f"The database refused this import ({type(exc).__name__}); nothing from the file "
            "was stored.",
            parsed.encoding,
        ) from None
    except Exception as exc:  # a reader bug must not become a 500 or a partial write
        log.exception("CSV import could not read the rows")
        raise FileProblem(
            f"The file could not be read ({type(exc).__name__}).", parsed.encoding
        ) from None


def _finish_failed(run: SyncRun, message: str, encoding: str, header_row: int | None):
    run.status = RunStatus.FAILED.value
    run.error = message
    run.details = {**run.details, "encoding": encoding, "header_row": header_row, "errors": []}
    run.finished_at = utcnow()
    db.session.flush()
    return ImportResult(
        run_id=run.id, message=message, encoding=encoding, header_row=header_row, status=run.status
    )


def _finish(run, platform, parsed: Parsed, groups, counts: UpsertCounts, accounts) -> ImportResult:
    errors = sorted(parsed.errors, key=lambda e: e.row)
    rejected = parsed.rejected
    stored = counts.inserted + counts.updated + counts.unchanged
    if not stored:
        status = RunStatus.FAILED.value
    elif rejected:
        status = RunStatus.PARTIAL.value
    else:
        status = RunStatus.SUCCEEDED.value
    days = [day for group in groups.values() for (_obj, day) in group.facts]
    message = _message(platform, parsed, rejected, stored, counts, days, groups)
    run.status = status
    run.error = "" if status == RunStatus.SUCCEEDED.value else message
    run.account_id = accounts[0].id if len(accounts) == 1 else None
    run.since, run.until = (min(days), max(days)) if days else (None, None)
    run.rows_inserted, run.rows_updated = counts.inserted, counts.updated
    run.rows_unchanged, run.rows_restated = counts.unchanged, counts.restated
    run.rows_rejected = rejected
    run.progress = 100
    run.details = {
        "platform": platform,
        "encoding": parsed.encoding,
        "header_row": parsed.layout.header_line,
        "delimiter": parsed.layout.delimiter,
        "decimal_comma": parsed.layout.decimal_comma,
        "rows_read": parsed.data_rows,
        "skipped_total_rows": parsed.skipped_totals[:MAX_ERRORS],
        "skipped_other_rows": parsed.skipped_other[:MAX_ERRORS],
        "accounts": sorted(groups),
        "errors": [
            {"row": e.row, "column": e.column, "problem": e.problem} for e in errors[:MAX_ERRORS]
        ],
        "error_count": parsed.error_count,
    }
    run.finished_at = utcnow()
    db.session.flush()
    return ImportResult(
        run_id=run.id,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=rejected,
        errors=errors[:MAX_ERRORS],
        message=message,
        encoding=parsed.encoding,
        status=status,
        error_count=parsed.error_count,
        header_row=parsed.layout.header_line,
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _message(platform, parsed: Parsed, rejected, stored, counts, days, groups) -> str:
    label = PLATFORM_LABELS[platform]
    if not parsed.data_rows:
        line = parsed.layout.header_line
        text = f"The {label} file has a header row (line {line}) but no data rows."
    elif not stored:
        rows = _n(parsed.data_rows, "data row")
        text = f"Nothing imported: all {rows} have problems (see the row report)."
    else:
        campaigns = sum(len(g.campaigns) for g in groups.values())
        text = (
            f"Imported {_n(stored, 'daily campaign row')} from "
            f"{_n(parsed.data_rows - rejected, label + ' row')} ({_n(campaigns, 'campaign')}, "
            f"{min(days):%d %b %Y} – {max(days):%d %b %Y}): {counts.inserted} new, "
            f"{counts.updated} updated, {counts.unchanged} unchanged."
        )
        if rejected:
            text += (
                f" {_n(rejected, 'row')} rejected (see the row report); the other rows were kept."
            )
    skipped = []
    if parsed.skipped_totals:
        skipped.append(_n(len(parsed.skipped_totals), "total row"))
    if parsed.skipped_other:
        skipped.append(_n(len(parsed.skipped_other), "note or repeated header line"))
    if skipped:
        text += " Skipped " + " and ".join(skipped) + "."
    return text
