"""Data rows of a CSV export: each record checked cell by cell into a `Row` or `RowError`s."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice

from ads.csv_cells import (
    EMPTY_CELLS,
    parse_date,
    parse_number,
    short,
    sniff_day_first,
    sniff_decimal_comma,
)
from ads.csv_formats import (
    COLUMN_LABELS,
    FileProblem,
    Layout,
    decode,
    find_layout,
    norm,
    read_records,
)
from core.money import known_currencies

MAX_ID_LENGTH = 64  # AdAccount.external_id, PlatformCampaign.external_id, SpendFact.object_id
MAX_COUNT = 2**63 - 1
MAX_AMOUNT = Decimal(10) ** 15


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
    currency: str
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    value: Decimal
    reach: int
    leads: int


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
    """Everything one ad account gets from the file."""

    currency: str
    name: str = ""
    campaigns: dict[str, tuple[date, str, str]] = field(default_factory=dict)  # latest name
    facts: dict[tuple[str, date], Fact] = field(default_factory=dict)


@dataclass
class Parsed:
    encoding: str
    layout: Layout
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_lines: set[int] = field(default_factory=set)
    data_rows: int = 0
    skipped_totals: list[int] = field(default_factory=list)
    skipped_other: list[int] = field(default_factory=list)
    currency_column: str = "Currency"


def _object_id(name: str) -> str:
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
        self.amount_fields = [
            k for k in ("spend", "conversion_value", "conversions") if k in self.cols
        ]
        self.count_fields = [
            k for k in ("impressions", "clicks", "reach", "leads") if k in self.cols
        ]

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
        if not any(c[:8].lstrip()[:5].lower() == "total" for c in cells):
            return False
        firsts = [c for c in cells if c.strip()][:1]
        for text in (*firsts, *(self.cell(cells, n) for n in ("day", "campaign", "campaign_id"))):
            if text.strip().lower().startswith("total"):
                try:
                    parse_date(self.cell(cells, "day"), self.layout.day_first)
                except ValueError:
                    return True
                return False
        return False

    def read(self, line: int, cells: list[str]) -> Row | list[RowError]:
        problems: list[RowError] = []

        def problem(name: str, text: str) -> None:
            problems.append(RowError(line, self.column(name), text))

        day = None
        raw_day = self.cell(cells, "day")
        if not raw_day:
            problem("day", "the date is missing")
        else:
            try:
                day = parse_date(raw_day, self.layout.day_first)
            except ValueError as exc:
                problem("day", str(exc))
        name = self.cell(cells, "campaign")
        # '123 and ="123" are how people keep a spreadsheet from mangling long ids.
        campaign_id = self.cell(cells, "campaign_id")
        if campaign_id.startswith('="') and campaign_id.endswith('"'):
            campaign_id = campaign_id[2:-1]
        campaign_id = campaign_id.lstrip("'")
        if "campaign_id" in self.cols:
            if not campaign_id or campaign_id.lower() in EMPTY_CELLS:
                problem("campaign_id", "the campaign id is missing")
            elif re.fullmatch(r"\d(?:[.,]\d+)?e\+?\d+", campaign_id.lower()):
                problem(
                    "campaign_id",
                    f"'{campaign_id}' was turned into scientific notation by a spreadsheet: "
                    "export the report again and import it without re-saving it",
                )
            elif len(campaign_id) > MAX_ID_LENGTH:
                problem("campaign_id", f"the campaign id is longer than {MAX_ID_LENGTH} characters")
            object_id = campaign_id
        else:
            if not name or name.lower() in EMPTY_CELLS:
                problem("campaign", "the campaign name is missing")
            object_id = _object_id(name)
        account = self.cell(cells, "account_id")
        if account.lower() in EMPTY_CELLS:
            account = self.default_account
        if len(account) > MAX_ID_LENGTH:
            problem("account_id", f"the account id is longer than {MAX_ID_LENGTH} characters")
        currency = self.cell(cells, "currency").upper()
        if currency.lower() in EMPTY_CELLS:
            currency = self.default_currency
        if not currency:
            problem("currency", "no currency: the file has none, so choose the account currency")
        elif currency not in self.currencies:
            problem("currency", f"'{short(currency)}' is not an ISO 4217 currency code")
        comma = self.layout.decimal_comma
        amounts = dict.fromkeys(("spend", "conversion_value", "conversions"), Decimal(0))
        for key in self.amount_fields:
            raw = self.cell(cells, key)
            try:
                amount = amounts[key] = parse_number(raw, comma)
            except ValueError as exc:
                problem(key, str(exc))
                continue
            # Conversions and their value may be negative (Google retracts conversions); spend not.
            if amount < 0 and key == "spend":
                problem(key, f"negative spend ({short(raw)})")
            elif abs(amount) >= MAX_AMOUNT:
                problem(key, f"{short(raw)} is too large")
        counts = dict.fromkeys(("impressions", "clicks", "reach", "leads"), 0)
        for key in self.count_fields:
            raw = self.cell(cells, key)
            if raw.isdigit() and len(raw) < 19:
                counts[key] = int(raw)
                continue
            try:
                value = parse_number(raw, comma)
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
        if problems:
            return problems
        return Row(
            line=line,
            account=account,
            account_name=self.cell(cells, "account_name"),
            object_id=object_id,
            name=name or campaign_id,
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
        )


def parse_file(platform: str, data: bytes, account_id: str, currency: str | None) -> Parsed:
    if not data.strip():
        raise FileProblem("The file is empty.")
    text, encoding = decode(data)
    if not text.strip():
        raise FileProblem("The file is empty.", encoding)
    try:
        layout = find_layout(text, platform)
    except FileProblem as exc:
        exc.encoding = encoding
        raise
    parsed = Parsed(encoding, layout)
    try:
        records = list(islice(read_records(text, layout.delimiter), layout.header_index + 1, None))
    except csv.Error as exc:
        raise FileProblem(
            f"The file is not valid CSV: {exc}.", encoding, layout.header_line
        ) from None
    cols = layout.columns
    layout.day_first = sniff_day_first([c[cols["day"]] for _, c in records if len(c) > cols["day"]])
    money = [cols[k] for k in ("spend", "conversion_value") if k in cols]
    layout.decimal_comma = sniff_decimal_comma(
        [c[i] for _, c in records for i in money if i < len(c)], layout.delimiter
    )
    reader = RowReader(layout, account_id, currency)
    header_norm = [norm(c) for c in layout.header]
    parsed.currency_column = reader.column("currency")
    for line, cells in records:
        filled = [c for c in cells if c.strip()]
        if not filled:
            continue
        if reader.is_total(cells):
            parsed.skipped_totals.append(line)
            continue
        repeated = norm(cells[0]) == header_norm[0] and [norm(c) for c in cells] == header_norm
        if len(filled) == 1 or repeated:
            parsed.skipped_other.append(line)  # a note line, or the header repeated
            continue
        parsed.data_rows += 1
        outcome = reader.read(line, cells)
        if isinstance(outcome, list):
            parsed.errors.extend(outcome)
            parsed.rejected_lines.add(line)
        else:
            parsed.rows.append(outcome)
    return parsed
