"""Orders CSV: attribute shop orders to partnerships by promo code or UTM, idempotent on the
order id; and the deliverable metrics CSV. Both read the file as a stream, report row by row
and flush, never commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select

from core.extensions import db
from core.intmap import IntMap
from core.money import Money, MoneyError, check_currency
from core.types import utcnow
from core.uploads import Limits, Source
from influencers.csvread import (
    CellError,
    CsvProblem,
    CsvTable,
    RowError,
    iter_mapped,
    normalise_header,
    parse_count,
    parse_day,
    read_table,
)
from influencers.imports import ImportResult, record_import
from influencers.models import METRIC_FIELDS, AttributedOrder, Deliverable, Partnership

BLOCK = 500  # orders upserted (metrics flushed) at a time
ORDERS_MAX_ROWS = 200_000  # the default cap (config ORDERS_MAX_ROWS for uploads)
ORDER_COLUMNS = {
    "order_id": "order_id order order_number order_no id order_ref",
    "date": "date order_date day created_at ordered_at",
    "amount": "amount total order_total revenue value order_value",
    "currency": "currency",
    "promo_code": "promo_code code discount_code coupon coupon_code promo",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
}
METRIC_COLUMNS = {"deliverable_id": "deliverable_id deliverable id"} | {
    name: name for name in (*METRIC_FIELDS, "revenue")
}
ORDER_FIELDS = (
    "ordered_on",
    "amount_minor",
    "currency",
    "promo_code",
    "utm_campaign",
    "utm_content",
    "partnership_id",
    "deliverable_id",
    "attributed_by",
)


def _mapping(table: CsvTable, columns: dict[str, str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, header in enumerate(table.headers):
        h = normalise_header(header)
        target = next((t for t, words in columns.items() if h in words.split()), "")
        if target and target not in mapping.values():
            mapping[index] = target
    return mapping


def _open(
    data: bytes | Source,
    kind: str,
    filename: str,
    columns: dict[str, str],
    required: set[str],
    limits: Limits | None,
):
    result = ImportResult(kind=kind, filename=filename)
    try:
        table = read_table(data, limits or Limits(max_rows=ORDERS_MAX_ROWS))
    except CsvProblem as exc:
        result.problem = str(exc)
        return result, None, {}
    result.encoding = table.encoding
    mapping = _mapping(table, columns)
    missing = sorted(required - set(mapping.values()))
    if missing:
        result.problem = (
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(found: {', '.join(table.headers)})."
        )
        return result, None, {}
    return result, table, mapping


def _reporter(table: CsvTable, progress: Callable[[int], None] | None):
    def report() -> None:
        if progress is not None:
            progress(int(99 * table.fraction_read()))

    return report


@dataclass
class _Attribution:
    codes: dict[str, int]
    campaigns: dict[str, int]
    contents: dict[tuple[int, str], int]

    @classmethod
    def load(cls) -> _Attribution:
        rows = db.session.execute(
            select(Partnership.id, Partnership.promo_code, Partnership.utm_campaign)
        ).all()
        contents = db.session.execute(
            select(Deliverable.partnership_id, Deliverable.utm_content, Deliverable.id)
        ).all()
        return cls(
            codes={code: pid for pid, code, _ in rows if code},
            campaigns={utm: pid for pid, _, utm in rows if utm},
            contents={(pid, utm.lower()): did for pid, utm, did in contents if utm},
        )


def import_orders(
    data: bytes | Source,
    filename: str = "",
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert attributed orders keyed by order id: the same file twice changes nothing.

    The file is read as a stream and written a block at a time; flushes, the caller commits.
    """
    required = {"order_id", "date", "amount", "currency"}
    result, table, mapping = _open(data, "orders", filename, ORDER_COLUMNS, required, limits)
    if table is None:
        return result
    if not {"promo_code", "utm_campaign"} & set(mapping.values()):
        result.problem = "The file needs a promo_code or a utm_campaign column to attribute orders."
        return result
    known = _Attribution.load()
    report = _reporter(table, progress)
    block: dict[str, dict[str, Any]] = {}
    # Order id (by its 64-bit hash, in machine integers) -> the row that brought it.
    first_line = IntMap()
    for line, values in iter_mapped(table, mapping):
        result.rows += 1
        row, errors = _order_row(line, values, known)
        ref = row.get("order_ref")
        if ref and hash(ref) in first_line and not errors:
            earlier = first_line[hash(ref)]
            errors.append(RowError(line, "order_id", f"{ref} is already on row {earlier}"))
        if errors:
            result.reject(errors)
        elif row.get("partnership_id") is None:
            result.unattributed += 1
            code, utm = row["promo_code"] or "—", row["utm_campaign"] or "—"
            why = f"no partnership has promo code {code} or utm_campaign {utm}"
            result.add_errors([RowError(line, "promo_code", f"not attributed: {why}")])
        else:
            block[ref], first_line[hash(ref)] = row, line
            if len(block) >= BLOCK:
                _upsert_orders(block, result)
                block = {}
                report()
    _upsert_orders(block, result)
    record_import(result)
    return result


def _order_row(line: int, values: dict[str, tuple[str, str]], known: _Attribution):
    errors: list[RowError] = []

    def cell(name: str) -> str:
        return values.get(name, ("", ""))[1]

    def header(name: str) -> str:
        return values.get(name, (name, ""))[0]

    ref = cell("order_id")[:100]
    if not ref:
        errors.append(RowError(line, header("order_id"), "the order id is missing"))
    day: date | None = None
    try:
        day = parse_day(cell("date")) if cell("date") else None
        if day is None:
            raise CellError("the date is missing")
    except CellError as exc:
        errors.append(RowError(line, header("date"), str(exc)))
    amount = None
    try:
        currency = check_currency(cell("currency"))
        amount = Money.of(cell("amount") or "", currency)
        if amount.is_negative():
            errors.append(RowError(line, header("amount"), "refunds (negative) are not imported"))
    except MoneyError as exc:
        column = "currency" if "currency" in str(exc) else "amount"
        errors.append(RowError(line, header(column), str(exc)))
    code = cell("promo_code").upper()[:40]
    utm = cell("utm_campaign").lower()[:120]
    content = cell("utm_content").lower()[:120]
    pid, by = known.codes.get(code), "code"
    if pid is None:
        pid, by = known.campaigns.get(utm), "utm"
    row = {
        "order_ref": ref,
        "ordered_on": day,
        "amount_minor": amount.minor if amount else None,
        "currency": amount.currency if amount else None,
        "promo_code": code,
        "utm_campaign": utm,
        "utm_content": content,
        "partnership_id": pid,
        "deliverable_id": known.contents.get((pid, content)) if pid and content else None,
        "attributed_by": by,
    }
    return row, errors


def _upsert_orders(parsed: dict[str, dict[str, Any]], result: ImportResult) -> None:
    refs = list(parsed)
    now = utcnow()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        stmt = select(AttributedOrder).where(AttributedOrder.order_ref.in_(chunk))
        for order in db.session.scalars(stmt):
            row = parsed.pop(order.order_ref)
            if all(getattr(order, f) == row[f] for f in ORDER_FIELDS):
                result.unchanged += 1
                continue
            for f in ORDER_FIELDS:
                setattr(order, f, row[f])
            result.updated += 1
    if parsed:
        rows = [row | {"created_at": now, "updated_at": now} for row in parsed.values()]
        db.session.execute(insert(AttributedOrder), rows)
        result.created += len(rows)
    db.session.flush()


# --- deliverable metrics --------------------------------------------------------------------


def import_metrics(
    data: bytes | Source,
    filename: str = "",
    allowed=None,
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Per-deliverable metrics by deliverable id; blank cells leave a metric as it is.

    `allowed(deliverable) -> bool` lets the caller refuse deliverables the user may not edit.
    The file is read as a stream; flushes every block of rows, the caller commits.
    """
    result, table, mapping = _open(
        data, "metrics", filename, METRIC_COLUMNS, {"deliverable_id"}, limits
    )
    if table is None:
        return result
    report = _reporter(table, progress)
    for line, values in iter_mapped(table, mapping):
        result.rows += 1
        errors: list[RowError] = []
        header, ref = values.get("deliverable_id", ("deliverable_id", ""))
        d = db.session.get(Deliverable, int(ref)) if ref.isdigit() and len(ref) < 10 else None
        if d is None or (allowed is not None and not allowed(d)):
            errors.append(RowError(line, header, f"no deliverable {ref or '(blank)'}"))
        changes: dict[str, int] = {}
        for name, (column, text) in values.items():
            if name == "deliverable_id" or d is None:
                continue
            try:
                if name == "revenue":
                    money = Money.of(text, d.partnership.currency)
                    if money.is_negative():
                        raise CellError(f"“{text}” is negative")
                    changes["revenue_minor"] = money.minor
                else:
                    changes[name] = parse_count(text)
            except (CellError, MoneyError) as exc:
                errors.append(RowError(line, column, str(exc)))
        if result.rows % BLOCK == 0:
            db.session.flush()
            report()
        if errors:
            result.reject(errors)
            continue
        if all(getattr(d, k) == v for k, v in changes.items()):
            result.unchanged += 1
            continue
        for key, value in changes.items():
            setattr(d, key, value)
        result.updated += 1
    db.session.flush()
    record_import(result)
    return result
