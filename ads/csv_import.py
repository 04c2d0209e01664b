"""Import the daily campaign CSV exports of Google Ads, TikTok Ads and LinkedIn Campaign Manager.

Files are read the way the platforms write them: title and metadata lines above the header,
UTF-8 / UTF-8 with BOM / UTF-16 (Google's "Excel CSV") / cp1252, `,` `;` or tab separated,
numbers like `1,234.56`, `1.234,56`, `$12.00`, `--`, and trailing `Total` rows. Rows of one
(account, campaign, day) within a file (segmented exports) are summed, so the stored facts are
the same however often the same file is imported. Exports that are not by day (weekly,
monthly, whole-range) and other platforms' files are refused with what to export instead.

Transaction: `import_csv` flushes and never commits. The caller (the upload view, the CLI)
commits once, so accounts, platform campaigns, facts and the `SyncRun` ledger row land together.
The writes for the rows run inside a SAVEPOINT: if the database refuses any of them, all are
rolled back and only the failed run row is left for the caller to commit.

The work is done beside this module: `csv_platforms` (each platform's column names),
`csv_formats` (decoding, header detection), `csv_cells` (numbers and dates), `csv_parse`
(the file read as a stream of rows), `csv_rows` (a record checked into a row or its errors),
`csv_group` (rows summed into daily facts, repeats caught) and `csv_store` (the facts written
in batches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ads.csv_cells import short
from ads.csv_dates import ORDERS
from ads.csv_formats import FileProblem
from ads.csv_group import Group, group_rows
from ads.csv_parse import Parsed, parse_file
from ads.csv_platforms import HOW_TO_EXPORT, PLATFORM_LABELS
from ads.csv_rows import MAX_ERRORS, MAX_ID_LENGTH, RowError
from ads.csv_store import store
from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import UpsertCounts
from core.extensions import db
from core.money import known_currencies
from core.types import utcnow

__all__ = ["ImportResult", "RowError", "import_csv"]

log = logging.getLogger(__name__)

SHOWN_NOTES = 5  # in the message; the import log keeps them all (up to MAX_ERRORS)


@dataclass
class ImportResult:
    run_id: int | None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    message: str = ""
    notes: list[str] = field(default_factory=list)  # campaigns merged or kept apart
    encoding: str = ""
    status: str = RunStatus.FAILED.value
    error_count: int = 0
    header_row: int | None = None


# --- entry point ------------------------------------------------------------------------------


def import_csv(
    platform: str,
    data: bytes,
    *,
    filename: str = "",
    account_id: str | None = None,
    currency: str | None = None,
    user_id: int | None = None,
    date_order: str | None = None,
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
        parsed = _parse_arguments_and_file(platform, data, account_id, currency, date_order)
        groups = _read_rows(parsed, platform)
    except FileProblem as exc:
        return _finish_failed(run, str(exc), exc.encoding, exc.header_row)
    counts, accounts = UpsertCounts(), []
    if groups:
        try:
            counts, accounts = store(platform, groups, run.id, parsed)
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
    platform: str,
    data: bytes,
    account_id: str | None,
    currency: str | None,
    date_order: str | None,
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
    if date_order and date_order not in ORDERS:
        raise FileProblem(f"Unknown date order {short(date_order)!r}: choose dmy or mdy.")
    try:
        return parse_file(platform, bytes(data), account_id, currency or None, date_order or None)
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
        "notes": parsed.notes[:MAX_ERRORS],
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
        notes=parsed.notes[:MAX_ERRORS],
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
    elif not stored and parsed.period_rows == parsed.data_rows:
        text = (
            "Nothing imported: every row covers more than one day, so these are totals for a "
            f"period, not days (see the row report). {HOW_TO_EXPORT[platform]}"
        )
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
    if parsed.notes:
        text += " " + " ".join(parsed.notes[:SHOWN_NOTES])
        if len(parsed.notes) > SHOWN_NOTES:
            text += f" … and {len(parsed.notes) - SHOWN_NOTES} more (see the import log)."
    return text
