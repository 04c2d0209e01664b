"""Data rows of a CSV export: each record checked cell by cell into a `Row` or `RowError`s.

A row is refused with every problem it has, each with its column as the file names it: a date
that is not one day, a missing campaign id, an amount that is not a number, negative spend, a
count that is not whole, an unknown currency. `csv_parse` feeds the records in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ads.csv_cells import (
    EMPTY_CELLS,
    SpanError,
    parse_date,
    parse_number,
    short,
)
from ads.csv_formats import Layout, norm
from ads.csv_platforms import COLUMN_LABELS, is_metric_header
from core.money import known_currencies

MAX_ID_LENGTH = 64  # AdAccount.external_id, PlatformCampaign.external_id, SpendFact.object_id
MAX_COUNT = 2**63 - 1
MAX_AMOUNT = Decimal(10) ** 15
MAX_ERRORS = 1000  # problems kept for the report; all are counted
AMOUNT_FIELDS = ("spend", "conversion_value", "conversions")
COUNT_FIELDS = ("impressions", "clicks", "reach", "leads")

TOTAL_LINE = re.compile(
    r"\s*(?:totals?|grand\s+total|gesamt|insgesamt|summe|totaal|totale|totaux)\b", re.IGNORECASE
)
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?e\+?\d+")
_CODE_IN_CELL = re.compile(r"\(([A-Za-z]{3})\)\s*$")
_CURRENCY_SIGNS = {"€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₺": "TRY", "₽": "RUB"}


@dataclass(frozen=True)
class RowError:
    """One problem: the line number as a spreadsheet shows it, the file's column name, why."""

    row: int
    column: str
    problem: str


@dataclass(slots=True)
class Row:
    line: int
    account: str
    account_name: str
    object_id: str
    name: str
    status: str
    day: date
    currency: str | None  # None: the file has none; the account's currency decides
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    value: Decimal
    reach: int
    leads: int
    dims: int  # what tells this row from another of its campaign-day (a segment), hashed
    metrics: int  # its numbers, hashed: equal dims and metrics is the same row twice


def name_key(name: str) -> str:
    """Campaign name as the object id when the export has no id column (ids are 64 chars max)."""
    if len(name) <= MAX_ID_LENGTH:
        return name
    return name[:47] + "~" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:16]


class RowReader:
    """Turns one record into a `Row` or a list of `RowError`s."""

    def __init__(self, layout: Layout, account_id: str, currency: str | None) -> None:
        self.layout = layout
        self.cols = layout.columns
        self.header = layout.header
        self.default_account = layout.meta_account or account_id
        self.default_currency = layout.header_currency or currency
        self.currencies = known_currencies()
        self.amount_fields = [k for k in AMOUNT_FIELDS if k in self.cols]
        self.count_fields = [k for k in COUNT_FIELDS if k in self.cols]
        self.metric_index, self.dim_index = self._split_columns()
        self.covers_days = False
        self._dates: dict[str, tuple[date | None, str, bool]] = {}

    def _split_columns(self) -> tuple[list[int], list[int]]:
        """Metric columns, and the dimension columns that tell segments of a campaign-day
        apart. The day, campaign and account are keyed parsed; attributes of the campaign
        (status, its name beside an id) are no segment."""
        numbers = (*AMOUNT_FIELDS, *COUNT_FIELDS, "daily_spend")
        metrics = {self.cols[k] for k in numbers if k in self.cols}
        keyed = {"day", "end_day", "campaign_id", "account_id", "account_name", "status"}
        keyed |= {"currency"} | ({"campaign"} if "campaign_id" in self.cols else set())
        skip = {self.cols[k] for k in keyed if k in self.cols}
        dims = []
        for index, label in enumerate(self.header):
            if index in metrics or index in skip:
                continue
            if is_metric_header(norm(label)):
                metrics.add(index)
            else:
                dims.append(index)
        return sorted(metrics), dims

    def cell(self, cells: list[str], name: str) -> str:
        index = self.cols.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def column(self, name: str) -> str:
        index = self.cols.get(name)
        if index is None:
            return COLUMN_LABELS.get(name, name)
        return self.header[index].strip().lstrip("\ufeff") or COLUMN_LABELS.get(name, name)

    def is_total(self, cells: list[str]) -> bool:
        """A "Total: Account", "Total of 12 results" or "Gesamt" line, not a campaign's day."""
        first = next((c for c in cells if c.strip()), "")
        for text in (first, *(self.cell(cells, n) for n in ("day", "campaign", "campaign_id"))):
            if TOTAL_LINE.match(text):
                try:
                    parse_date(self.cell(cells, "day"), self.layout.day_first)
                except ValueError:
                    return True
                return False
        return False

    def read(self, line: int, cells: list[str]) -> Row | list[RowError]:
        """The row, or its problems; `covers_days` then says whether one was that the row
        is a period, not a day."""
        problems: list[RowError] = []
        self.covers_days = False

        def problem(name: str, text: str) -> None:
            problems.append(RowError(line, self.column(name), text))

        day = self._day(cells, problem)
        name, object_id = self._campaign(cells, problem)
        account = self.cell(cells, "account_id")
        if account.lower() in EMPTY_CELLS:
            account = self.default_account
        if len(account) > MAX_ID_LENGTH:
            problem("account_id", f"the account id is longer than {MAX_ID_LENGTH} characters")
        currency = self._currency(cells, problem)
        amounts = self._amounts(cells, problem)
        if day is not None and amounts["spend"] > 0 and "daily_spend" in self.cols:
            self._one_day_of_spend(cells, amounts["spend"], problem)
        counts = self._counts(cells, problem)
        if problems:
            return problems
        width = len(cells)
        return Row(
            line=line,
            account=account,
            account_name=self.cell(cells, "account_name"),
            object_id=object_id,
            name=name,
            status=self.cell(cells, "status"),
            day=day,
            currency=currency,
            spend=amounts["spend"],
            impressions=counts["impressions"],
            clicks=counts["clicks"],
            conversions=amounts["conversions"],
            value=amounts["conversion_value"],
            reach=counts["reach"],
            leads=counts["leads"],
            dims=hash(
                (account, object_id, day, *(cells[i] if i < width else "" for i in self.dim_index))
            ),
            metrics=hash(tuple(cells[i].strip() if i < width else "" for i in self.metric_index)),
        )

    def _day(self, cells: list[str], problem) -> date | None:
        raw_day = self.cell(cells, "day")
        if not raw_day:
            problem("day", "the date is missing")
            return None
        day, why, span = self._date(raw_day)
        if day is None:
            self.covers_days = span
            problem("day", why)
            return None
        raw_end = self.cell(cells, "end_day")
        if raw_end and raw_end.lower() not in EMPTY_CELLS:
            end, why, _span = self._date(raw_end)
            if end is None:
                problem("end_day", why)
                return None
            if end != day:
                self.covers_days = True
                problem("end_day", f"the row covers {day:%d %b %Y} – {end:%d %b %Y}, not one day")
                return None
        return day

    def _date(self, raw: str) -> tuple[date | None, str, bool]:
        """(the day, or None and why, and whether it is a period): the file's date rule,
        then the parser; remembered, since a file has few distinct dates and many rows."""
        known = self._dates.get(raw)
        if known is None:
            dates = self.layout.dates
            why = dates.problem(raw) if dates is not None else None
            if why:
                known = (None, why, False)
            else:
                try:
                    known = (parse_date(raw, self.layout.day_first), "", False)
                except ValueError as exc:
                    known = (None, str(exc), isinstance(exc, SpanError))
            if len(self._dates) >= 4096:
                self._dates.clear()
            self._dates[raw] = known
        return known

    def _one_day_of_spend(self, cells: list[str], spend: Decimal, problem) -> None:
        """LinkedIn's Average Daily Spend is the Total Spent of a one-day row; a row spending
        30 times its daily average is a month, even when the export has no End Date."""
        try:
            daily = parse_number(self.cell(cells, "daily_spend"), self.layout.decimal_comma)
        except ValueError:
            return
        if daily > 0 and spend / daily >= Decimal("1.5"):
            self.covers_days = True
            days = (spend / daily).to_integral_value()
            problem(
                "day",
                f"the row covers about {days} days ({self.column('spend')} {spend}, "
                f"{self.column('daily_spend')} {daily}), not one day",
            )

    def _campaign(self, cells: list[str], problem) -> tuple[str, str]:
        name = self.cell(cells, "campaign")
        # '123 and ="123" are how people keep a spreadsheet from mangling long ids.
        campaign_id = self.cell(cells, "campaign_id")
        if campaign_id.startswith('="') and campaign_id.endswith('"'):
            campaign_id = campaign_id[2:-1]
        campaign_id = campaign_id.lstrip("'")
        if "campaign_id" not in self.cols:
            if not name or name.lower() in EMPTY_CELLS:
                problem("campaign", "the campaign name is missing")
            return name, name_key(name)
        if not campaign_id or campaign_id.lower() in EMPTY_CELLS:
            problem("campaign_id", "the campaign id is missing")
        elif _SCIENTIFIC.fullmatch(campaign_id.lower()):
            problem(
                "campaign_id",
                f"'{campaign_id}' was turned into scientific notation by a spreadsheet: "
                "export the report again and import it without re-saving it",
            )
        elif len(campaign_id) > MAX_ID_LENGTH:
            problem("campaign_id", f"the campaign id is longer than {MAX_ID_LENGTH} characters")
        return name if name.lower() not in EMPTY_CELLS else campaign_id, campaign_id

    def _currency(self, cells: list[str], problem) -> str | None:
        currency = self.cell(cells, "currency")
        if currency.lower() in EMPTY_CELLS:
            return self.default_currency
        if found := _CODE_IN_CELL.search(currency):  # "Euro (EUR)"
            currency = found.group(1)
        currency = _CURRENCY_SIGNS.get(currency, currency).upper()
        if currency not in self.currencies:
            problem("currency", f"'{short(currency)}' is not an ISO 4217 currency code")
        return currency

    def _amounts(self, cells: list[str], problem) -> dict[str, Decimal]:
        comma = self.layout.decimal_comma
        amounts = dict.fromkeys(AMOUNT_FIELDS, Decimal(0))
        for key in self.amount_fields:
            raw = self.cell(cells, key)
            try:
                amount = parse_number(raw, comma)
            except ValueError as exc:
                problem(key, str(exc))
                continue
            if key == "spend" and self.layout.spend_scale != 1:
                amount *= self.layout.spend_scale
            amounts[key] = amount
            # Conversions and their value may be negative (Google retracts conversions); spend not.
            if amount < 0 and key == "spend":
                problem(key, f"negative spend ({short(raw)})")
            elif abs(amount) >= MAX_AMOUNT:
                problem(key, f"{short(raw)} is too large")
        return amounts

    def _counts(self, cells: list[str], problem) -> dict[str, int]:
        counts = dict.fromkeys(COUNT_FIELDS, 0)
        for key in self.count_fields:
            raw = self.cell(cells, key)
            if raw.isdigit() and len(raw) < 19:
                counts[key] = int(raw)
                continue
            try:
                value = parse_number(raw, self.layout.decimal_comma)
            except ValueError as exc:
                problem(key, str(exc))
                continue
            if value != value.to_integral_value():
                problem(key, f"'{short(raw)}' is not a whole number")
            elif value < 0:
                problem(key, f"negative value ({short(raw)})")
            elif value > MAX_COUNT:
                problem(key, f"{short(raw)} is too large")
            else:
                counts[key] = int(value)
        return counts
