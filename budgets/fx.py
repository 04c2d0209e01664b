"""FX rates: keep them (UI, CSV import), find the rate of a day (or the nearest earlier one),
convert with it and say which rate was used. A missing rate is a state, never a guess.

Rates dated inside a closed budget period are locked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import pandas as pd
from sqlalchemy import and_, or_, select

from budgets.models import RATE_SCALE, Budget, BudgetStatus, FxRate
from core.audit import audit_comment
from core.extensions import db
from core.models import User
from core.money import Money, MoneyError, check_currency, exponent

MAX_RATE = Decimal(10) ** 8
QUANT = Decimal(1).scaleb(-RATE_SCALE)
MAX_IMPORT_ROWS = 50_000


class FxError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Conversion:
    """A converted amount and the rate behind it; `money` is None when no rate exists."""

    money: Money | None
    rate: Decimal | None = None  # units of the target currency per unit of the source
    rate_day: date | None = None
    rate_id: int | None = None
    inverted: bool = False  # the stored rate was target→source

    @property
    def missing(self) -> bool:
        return self.money is None


def apply_rate(minor: int, source: str, target: str, rate: Decimal, inverted: bool) -> int:
    """Minor units of `source` to minor units of `target`, rounded half-even once."""
    major = Decimal(minor).scaleb(-exponent(source))
    converted = major / rate if inverted else major * rate
    return int(converted.scaleb(exponent(target)).to_integral_value(rounding=ROUND_HALF_EVEN))


def find_rate(base: str, quote: str, on: date) -> tuple[FxRate, bool] | None:
    """The rate of `on` or the nearest earlier day; a stored inverse pair counts too."""
    found: list[tuple[FxRate, bool]] = []
    for b, q, inverted in ((base, quote, False), (quote, base, True)):
        rate = db.session.scalar(
            select(FxRate)
            .where(FxRate.base_currency == b, FxRate.quote_currency == q, FxRate.day <= on)
            .order_by(FxRate.day.desc())
            .limit(1)
        )
        if rate is not None:
            found.append((rate, inverted))
    if not found:
        return None
    # The latest day wins; on a tie the direct quote beats the inverse.
    return max(found, key=lambda pair: (pair[0].day, not pair[1]))


def convert(amount: Money, to_currency: str, on: date) -> Conversion:
    to_currency = check_currency(to_currency)
    if amount.currency == to_currency:
        return Conversion(amount)
    hit = find_rate(amount.currency, to_currency, on)
    if hit is None:
        return Conversion(None)
    rate, inverted = hit
    minor = apply_rate(amount.minor, amount.currency, to_currency, rate.rate, inverted)
    shown = (1 / rate.rate).quantize(QUANT) if inverted else rate.rate
    return Conversion(Money(minor, to_currency), shown, rate.day, rate.id, inverted)


# --- frames (vectorised lookups for pacing and exports) ---------------------------------------

RATE_COLUMNS = ["base", "quote", "day", "rate", "rate_id"]


def rates_frame(currencies: set[str], until: date) -> pd.DataFrame:
    """Every stored rate between the given currencies up to `until`."""
    if len(currencies) < 2:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RATE_COLUMNS})
    stmt = select(
        FxRate.base_currency, FxRate.quote_currency, FxRate.day, FxRate.rate, FxRate.id
    ).where(
        FxRate.base_currency.in_(sorted(currencies)),
        FxRate.quote_currency.in_(sorted(currencies)),
        FxRate.day <= until,
    )
    rows = [tuple(row) for row in db.session.execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=RATE_COLUMNS)


def convert_frame(amounts: pd.DataFrame, rates: pd.DataFrame, to_currency: str) -> pd.DataFrame:
    """Add converted_minor (nullable Int64), fx_rate, fx_rate_day, fx_missing to `amounts`.

    `amounts` has day (date), currency and amount_minor; `rates` is `rates_frame`'s shape. Pure.
    """
    out = amounts.copy()
    out["converted_minor"] = out["amount_minor"].astype("Int64")
    out["fx_rate"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    out["fx_rate_day"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    out["fx_missing"] = False
    foreign = out["currency"] != to_currency
    for currency in sorted(set(out.loc[foreign, "currency"])):
        mask = out["currency"] == currency
        part = out.loc[mask, ["day", "amount_minor"]].copy()
        part["key_day"] = pd.to_datetime(part["day"]).astype("datetime64[ns]")
        part["row_id"] = part.index
        candidates = _candidates(rates, currency, to_currency)
        if candidates.empty:
            matched = part.assign(rate=None, inverted=None, rate_day=None)
        else:
            matched = pd.merge_asof(
                part.sort_values("key_day"), candidates, on="key_day", direction="backward"
            )
        for row in matched.itertuples(index=False):
            if row.rate is None or pd.isna(row.rate_day):
                out.at[row.row_id, "converted_minor"] = pd.NA
                out.at[row.row_id, "fx_missing"] = True
                continue
            out.at[row.row_id, "converted_minor"] = apply_rate(
                int(row.amount_minor), currency, to_currency, row.rate, bool(row.inverted)
            )
            shown = (1 / row.rate).quantize(QUANT) if row.inverted else row.rate
            out.at[row.row_id, "fx_rate"] = shown
            out.at[row.row_id, "fx_rate_day"] = row.rate_day
    return out


def _candidates(rates: pd.DataFrame, source: str, target: str) -> pd.DataFrame:
    direct = rates[(rates["base"] == source) & (rates["quote"] == target)].assign(inverted=False)
    inverse = rates[(rates["base"] == target) & (rates["quote"] == source)].assign(inverted=True)
    both = pd.concat([direct, inverse], ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=["key_day", "rate", "inverted", "rate_day"])
    both["key_day"] = pd.to_datetime(both["day"]).astype("datetime64[ns]")
    # Per day keep the direct quote over the inverse one.
    both = both.sort_values(["key_day", "inverted"]).drop_duplicates("key_day", keep="first")
    return both.rename(columns={"day": "rate_day"})[["key_day", "rate", "inverted", "rate_day"]]


# --- keeping rates --------------------------------------------------------------------------


def locked_periods() -> list[tuple[date, date]]:
    stmt = select(Budget.start_date, Budget.end_date).where(
        Budget.status == BudgetStatus.CLOSED.value
    )
    return [(s, e) for s, e in db.session.execute(stmt)]


def is_locked(day: date, periods: list[tuple[date, date]] | None = None) -> bool:
    periods = locked_periods() if periods is None else periods
    return any(start <= day <= end for start, end in periods)


def parse_rate(text: str) -> Decimal:
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise FxError(f"{text!r} is not a number.", "rate") from None
    if not value.is_finite() or value <= 0 or value >= MAX_RATE:
        raise FxError("A rate must be above 0 and below 100,000,000.", "rate")
    if value != value.quantize(QUANT, rounding=ROUND_HALF_EVEN):
        raise FxError(f"Use at most {RATE_SCALE} decimal places.", "rate")
    return value


def _pair(base: str, quote: str) -> tuple[str, str]:
    try:
        base, quote = check_currency(base), check_currency(quote)
    except MoneyError as exc:
        raise FxError(str(exc) + ".", "base_currency") from None
    if base == quote:
        raise FxError("Choose two different currencies.", "quote_currency")
    return base, quote


def check_rate(
    day: date, base: str, quote: str, rate_text: str, periods: list[tuple[date, date]] | None = None
) -> tuple[str, str, Decimal]:
    """Validate one rate without touching the session."""
    base, quote = _pair(base, quote)
    rate = parse_rate(rate_text)
    if is_locked(day, periods):
        raise FxError(f"{day:%d %b %Y} is in a closed period: its rates are locked.", "day")
    return base, quote, rate


def _store(
    user: User | None, day: date, base: str, quote: str, rate: Decimal, source: str
) -> FxRate:
    existing = db.session.scalar(
        select(FxRate).where(
            FxRate.day == day, FxRate.base_currency == base, FxRate.quote_currency == quote
        )
    )
    if existing is None:
        existing = FxRate(
            day=day,
            base_currency=base,
            quote_currency=quote,
            created_by_id=user.id if user else None,
        )
        db.session.add(existing)
    existing.rate = rate
    existing.source = (source or "manual").strip()[:120] or "manual"
    return existing


def set_rate(
    user: User | None,
    day: date,
    base: str,
    quote: str,
    rate_text: str,
    source: str = "manual",
    comment: str | None = None,
) -> FxRate:
    """Create or replace the rate of `day` for base→quote; refuse locked days."""
    base, quote, rate = check_rate(day, base, quote, rate_text)
    with audit_comment(comment or f"Rate set ({source or 'manual'})"), db.session.no_autoflush:
        stored = _store(user, day, base, quote, rate, source)
        db.session.flush()
    return stored


def delete_rate(rate: FxRate) -> None:
    if is_locked(rate.day):
        raise FxError(f"{rate.day:%d %b %Y} is in a closed period: its rates are locked.")
    db.session.delete(rate)
    with audit_comment("Rate removed"):
        db.session.flush()


@dataclass
class ImportResult:
    saved: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, problem


def import_rates(user: User | None, raw: bytes, filename: str) -> ImportResult:
    """CSV with date, from, to, rate[, source]. All or nothing: one bad row saves no row."""
    result = ImportResult()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "file", "The file is not UTF-8 text."))
        return result
    if "\x00" in text:
        result.errors.append((0, "file", "The file holds NUL characters: is it really a CSV?"))
        return result
    try:
        valid = _read_rates(text, filename, result)
    except csv.Error as exc:  # e.g. a field longer than the csv module allows
        result.errors.append((0, "file", f"The file is not readable CSV: {exc}."))
        return result
    if result.errors:
        return result
    with audit_comment(f"Imported from {filename}"[:300]), db.session.no_autoflush:
        for day, base, quote, rate, source in valid:
            _store(user, day, base, quote, rate, source)
        db.session.flush()
    result.saved = len(valid)
    return result


def _read_rates(text: str, filename: str, result: ImportResult) -> list[tuple]:
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower() for h in (reader.fieldnames or [])}
    missing = {"date", "from", "to", "rate"} - header
    if missing:
        result.errors.append((1, "header", f"Missing column(s): {', '.join(sorted(missing))}."))
        return []
    periods, seen, valid = locked_periods(), set(), []
    for number, raw_row in enumerate(reader, start=2):
        if number > MAX_IMPORT_ROWS + 1:
            result.errors.append((number, "file", f"At most {MAX_IMPORT_ROWS} rows per file."))
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k}
        try:
            day = date.fromisoformat(row.get("date", ""))
        except ValueError:
            result.errors.append((number, "date", f"{row.get('date')!r} is not a YYYY-MM-DD date."))
            continue
        try:
            base, quote, rate = check_rate(
                day, row.get("from", ""), row.get("to", ""), row.get("rate", ""), periods
            )
        except FxError as exc:
            column = {"base_currency": "from", "quote_currency": "to"}.get(exc.field or "")
            result.errors.append((number, column or exc.field or "row", str(exc)))
            continue
        if (day, base, quote) in seen:
            result.errors.append((number, "date", "The same date and pair appear twice."))
            continue
        seen.add((day, base, quote))
        valid.append((day, base, quote, rate, row.get("source") or f"csv:{filename}"))
    return valid


def rates_query(base: str = "", quote: str = ""):
    stmt = select(FxRate).order_by(FxRate.day.desc(), FxRate.base_currency, FxRate.quote_currency)
    if base and quote:
        stmt = stmt.where(
            or_(
                and_(FxRate.base_currency == base, FxRate.quote_currency == quote),
                and_(FxRate.base_currency == quote, FxRate.quote_currency == base),
            )
        )
    elif base:
        stmt = stmt.where(or_(FxRate.base_currency == base, FxRate.quote_currency == base))
    return stmt
