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
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ads.csv_cells import short
from ads.csv_dates import ORDERS
from ads.csv_formats import FileProblem
from ads.csv_group import Group, Spool, bucket_facts, collect
from ads.csv_parse import Parsed, parse_file
from ads.csv_platforms import HOW_TO_EXPORT, PLATFORM_LABELS
from ads.csv_rows import MAX_ERRORS, MAX_ID_LENGTH, RowError
from ads.csv_store import prepare, store_facts_of
from ads.mapping import SYSTEM, MapRights
from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import UpsertCounts
from core.extensions import db
from core.models import User
from core.money import known_currencies
from core.types import utcnow
from core.uploads import Limits, Source, UploadProblem

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

# Where each stage's progress lands on the 0–100 bar.
STAGES = {"reading": (0, 40), "grouping": (40, 70), "storing": (70, 99)}


def import_csv(
    platform: str,
    data: bytes | Source,
    *,
    filename: str = "",
    account_id: str | None = None,
    currency: str | None = None,
    user_id: int | None = None,
    date_order: str | None = None,
    run_id: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import one daily campaign export; never raises for bad input.

    `data` is the file's bytes or a `Source` (an upload on disk), read as a stream.
    `account_id` and `currency` are used only when the file has no account / currency column.
    `user_id` is who imports: spend lands only on campaigns they may edit (see `ads.mapping`);
    None is the system (the CLI without --as-user), which may map anything. Good rows are
    stored, bad rows are reported as `RowError`s (line, column, problem) and recorded with the
    counts on a `SyncRun` (kind "csv_import"): `run_id`'s (a queued import job), else a new
    one. A file-level problem (empty, binary, no header, too many rows, another platform's
    export) stores nothing but the failed run row. `progress(percent)` is told how far it got.
    Flushes, does not commit: the caller commits once, so the import is one transaction.
    """
    run = _run_row(run_id, filename, user_id, platform)
    report = _reporter(progress)
    spool: Spool | None = None
    try:
        parsed = _parse_arguments_and_file(
            platform, data, account_id, currency, date_order, limits, report
        )
        spool = Spool(parsed.layout.records)
        groups = _read_rows(parsed, platform, spool)
        rights = _rights(user_id)
        try:
            stored = _store(platform, groups, parsed, spool, run.id, rights, report)
        except (SQLAlchemyError, ValueError) as exc:
            if isinstance(exc, FileProblem):
                raise
            log.exception("CSV import %s refused by the database", run.id)
            return _finish_failed(run, _refused(exc), parsed.encoding, parsed.layout.header_line)
    except FileProblem as exc:
        return _finish_failed(run, str(exc), exc.encoding, exc.header_row)
    finally:
        if spool is not None:
            spool.close()
    return _finish(run, platform, parsed, groups, *stored)


def _refused(exc: Exception) -> str:
    if isinstance(exc, IntegrityError):
        # Two imports creating one new account or campaign at the same moment.
        return (
            "Another import added the same accounts or campaigns at the same moment: nothing "
            "from this file was stored. Import it again."
        )
    return (
        f"The database refused this import ({type(exc).__name__}); nothing from the file "
        "was stored."
    )


def _run_row(run_id: int | None, filename: str, user_id: int | None, platform: str) -> SyncRun:
    run = db.session.get(SyncRun, run_id) if run_id is not None else None
    if run is None:
        run = SyncRun(
            kind="csv_import",
            status=RunStatus.RUNNING.value,
            source_name=(filename or "")[:300],
            started_by_id=user_id,
            details={"platform": platform},
        )
        db.session.add(run)
        db.session.flush()
    return run


def _rights(user_id: int | None) -> MapRights:
    if user_id is None:
        return SYSTEM
    return MapRights(db.session.get(User, user_id) or _NOBODY)


class _Nobody:
    """A user who no longer exists may map nothing."""

    is_authenticated = is_active = False


_NOBODY = _Nobody()


def _reporter(progress: Callable[[int], None] | None):
    last = [-1]

    def report(stage: str, fraction: float) -> None:
        low, high = STAGES[stage]
        percent = int(low + (high - low) * min(max(fraction, 0.0), 1.0))
        if progress is not None and percent != last[0]:
            last[0] = percent
            progress(percent)

    return report


def _store(platform, groups, parsed: Parsed, spool: Spool, run_id: int, rights, report):
    """Everything from the file in one SAVEPOINT: the accounts and campaigns, then the facts
    a bucket at a time. Returns (counts, accounts, [first day, last day] or [])."""
    counts = UpsertCounts()
    days: list = []
    with db.session.begin_nested():
        prepared = prepare(platform, groups, parsed, rights)
        currencies = {key: account.currency for key, account in prepared.accounts.items()}
        for index in range(spool.count):
            facts = bucket_facts(
                parsed, spool.bucket(index), currencies.__getitem__, prepared.refusal
            )
            if facts:
                counts.add(store_facts_of(prepared, facts, run_id))
                low, high = min(key[2] for key in facts), max(key[2] for key in facts)
                days = [min(days[0], low), max(days[1], high)] if days else [low, high]
            del facts
            report("storing", (index + 1) / spool.count)
        db.session.flush()
    return counts, list(prepared.accounts.values()), days


def _parse_arguments_and_file(
    platform: str,
    data: bytes | Source,
    account_id: str | None,
    currency: str | None,
    date_order: str | None,
    limits: Limits | None,
    report,
) -> Parsed:
    if platform not in PLATFORM_LABELS:
        raise FileProblem(f"Unknown platform {platform!r}: choose {', '.join(PLATFORM_LABELS)}.")
    if not isinstance(data, bytes | bytearray | Source):
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
    source = data if isinstance(data, Source) else Source(data=bytes(data))
    try:
        return parse_file(
            platform, source, account_id, currency or None, date_order or None, limits, report
        )
    except FileProblem:
        raise
    except OSError:
        log.exception("CSV import could not open the file")
        raise FileProblem("The uploaded file could not be read back: upload it again.") from None
    except Exception as exc:  # a parser bug must not become a 500 or a partial write
        log.exception("CSV import could not parse the file")
        raise FileProblem(f"The file could not be read ({type(exc).__name__}).") from None


def _read_rows(parsed: Parsed, platform: str, spool: Spool) -> dict[str, Group]:
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
        return collect(parsed, known_currency, spool)
    except FileProblem as exc:
        exc.encoding = exc.encoding or parsed.encoding
        raise
    except (UploadProblem, UnicodeDecodeError) as exc:
        raise FileProblem(str(exc), parsed.encoding) from None
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
    run.details = {
        **run.details,
        "message": message,
        "encoding": encoding,
        "header_row": header_row,
        "errors": [],
    }
    run.finished_at = utcnow()
    db.session.flush()
    return ImportResult(
        run_id=run.id, message=message, encoding=encoding, header_row=header_row, status=run.status
    )


def _finish(
    run, platform, parsed: Parsed, groups, counts: UpsertCounts, accounts, days
) -> ImportResult:
    errors = sorted(parsed.errors, key=lambda e: e.row)[:MAX_ERRORS]
    rejected = parsed.rejected
    stored = counts.inserted + counts.updated + counts.unchanged
    if not stored:
        status = RunStatus.FAILED.value
    elif rejected:
        status = RunStatus.PARTIAL.value
    else:
        status = RunStatus.SUCCEEDED.value
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
        "message": message,
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
