"""Reading a platform export's text: the delimiter and the header row.

Files are `,` `;` or tab separated, with title, date-range and metadata lines above the
header. Which columns each platform has is `csv_platforms`; the bytes become text lines in
`csv_text`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING

from ads.csv_cells import parse_range
from ads.csv_dates import DateRule
from ads.csv_platforms import (
    ALIASES,
    ENGLISH_DAY_COLUMNS,
    FOREIGN_LABELS,
    HOW_TO_EXPORT,
    NOT_IMPORTED,
    PERIODS,
    PLATFORM_LABELS,
    SIGNATURES,
)
from core.money import known_currencies

if TYPE_CHECKING:
    from ads.csv_text import Text

HEADER_SCAN_LINES = 30
DELIMITERS = (",", "\t", ";")
MICROS = Decimal("0.000001")

_NON_WORD = re.compile(r"[\W_]+")
_HEADER_CURRENCY = re.compile(r"\(\s*(?:in\s+)?([A-Za-z]{3})\s*\)\s*$")  # "(USD)", "(in EUR)"


def norm(text: str) -> str:
    """A header cell as compared with the aliases: case-folded letters and digits."""
    return _NON_WORD.sub("", text.casefold())


class FileProblem(ValueError):
    def __init__(self, message: str, encoding: str = "", header_row: int | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding
        self.header_row = header_row


# --- records ------------------------------------------------------------------------------------


def read_records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the record's first line, cells), counting lines as a spreadsheet does."""
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    last = 0
    for cells in reader:
        yield last + 1, cells
        last = reader.line_num


# --- the header row -----------------------------------------------------------------------------


@dataclass
class Layout:
    delimiter: str
    header_index: int  # records before the header
    header_line: int
    header: list[str]
    columns: dict[str, int]
    header_currency: str | None
    meta_account: str | None
    spend_scale: Decimal = Decimal(1)  # MICROS for a "Cost (micros)" column
    decimal_comma: bool = False
    day_first: bool = False
    day_first_default: bool = False  # D/M when no value tells: the day column is not English
    # "November 1, 2026 - November 30, 2026" above the header, and its line.
    date_range: tuple[date, date] | None = None
    range_line: int | None = None
    dates: DateRule | None = None  # decided by csv_parse from all the rows
    records: int = 0  # records below the header (pass one counts them)


@dataclass
class _Undated:
    """A campaign header with cost but no day column: totals per period, not days."""

    line: int
    period: str = ""  # "weekly", "monthly"… when a period column says so
    column: str = ""


def _match_header(cells: list[str], aliases: dict[str, tuple[str, ...]]):
    """Which cell is which field. "Cost (USD)" is the cost column in USD; the code must be
    upper case, so TikTok's "Clicks (all)" is not a column in Albanian lek."""
    positions: dict[str, int] = {}
    codes: dict[int, str] = {}
    for index, cell in enumerate(cells):
        label = cell.strip().lstrip("\ufeff")
        found = _HEADER_CURRENCY.search(label)
        if found and found.group(1).isupper() and found.group(1) in known_currencies():
            codes[index] = found.group(1)
            label = label[: found.start()]
        positions.setdefault(norm(label), index)
    columns = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in positions:
                columns[name] = positions[alias]
                break
    micros = columns.pop("spend_micros", None)
    if "spend" not in columns and micros is not None:
        columns["spend"] = micros
    money = [columns[k] for k in ("spend", "conversion_value") if k in columns]
    currency = next((codes[i] for i in money if i in codes), None)
    return columns, currency, positions, micros is not None and columns["spend"] == micros


def _scan(text: Text, platform: str) -> tuple[Layout | None, set[str], _Undated | None]:
    """The best header row in the first lines, the normalised cells seen up to it, and a
    campaign header that lacks a date column (a report without the day segment)."""
    best: tuple[int, Layout, set[str]] | None = None
    seen_all: set[str] = set()
    undated = None
    for delimiter in DELIMITERS:
        try:
            head = list(islice(read_records(text.lines(), delimiter), HEADER_SCAN_LINES))
        except csv.Error:
            continue
        seen: set[str] = set()
        for index, (line, cells) in enumerate(head):
            columns, currency, positions, micros = _match_header(cells, ALIASES[platform])
            seen |= set(positions)
            seen.add(norm(" ".join(cells)))
            if "day" in columns and "spend" in columns:
                score = len(columns)
                if best is None or score > best[0]:
                    meta = _meta_account(head[:index])
                    layout = Layout(delimiter, index, line, cells, columns, currency, meta)
                    layout.range_line, layout.date_range = _meta_range(head[:index])
                    layout.spend_scale = MICROS if micros else Decimal(1)
                    best = (score, layout, set(seen))
                break
            campaign = "campaign" in columns or "campaign_id" in columns
            if "spend" in columns and campaign and (undated is None or not undated.period):
                undated = _Undated(line, *_period(cells)) if _period(cells)[0] else undated
                undated = undated or _Undated(line)
        seen_all |= seen
    if best is None:
        return None, seen_all, undated
    return best[1], best[2], None


def _period(cells: list[str]) -> tuple[str, str]:
    for cell in cells:
        name = norm(cell)
        for prefix, period in PERIODS.items():
            if name == prefix or (name.startswith(prefix) and len(prefix) > 3):
                return period, cell.strip()
    return "", ""


def _meta_range(records: list[tuple[int, list[str]]]) -> tuple[int | None, tuple | None]:
    """The report's date range above the header, when it reads the same in either day order
    (Google Ads writes "November 1, 2026 - November 30, 2026" on line 2)."""
    for line, cells in records:
        text = " ".join(c.strip() for c in cells if c.strip())
        span = parse_range(text, False)
        if span is not None and span == parse_range(text, True):
            return line, span
    return None, None


_META_ACCOUNT = re.compile(r"^\s*account(?:\s*id)?\s*:\s*(.+)$", re.IGNORECASE)


def _meta_account(records: list[tuple[int, list[str]]]) -> str | None:
    """LinkedIn writes "Account: 50999999" above the header."""
    for _line, cells in records:
        found = _META_ACCOUNT.match(" ".join(c.strip() for c in cells if c.strip()))
        if found:
            value = found.group(1).strip()
            digits = re.search(r"\((\d+)\)\s*$", value)
            if digits:
                return digits.group(1)
            if value.isdigit():
                return value
    return None


def find_layout(text: Text, platform: str) -> Layout:
    """The header row and what each column is; FileProblem when the file cannot be imported."""
    layout, seen, undated = _scan(text, platform)
    label = PLATFORM_LABELS[platform]
    for other, why in NOT_IMPORTED.items():
        if seen & SIGNATURES[other]:
            raise FileProblem(
                f"This looks like a {FOREIGN_LABELS[other]} export, not {label}: {why}"
            )
    if layout is None or not seen & SIGNATURES[platform]:
        _refuse_other_platform(text, platform, seen)
    if layout is None and undated:
        if undated.period:
            what = (
                f"has a {undated.column!r} column but no day column: the rows are {undated.period} "
            )
        else:
            what = "has no date column, so the rows are "
        raise FileProblem(
            f"The header on line {undated.line} {what}totals, not days. Only a report broken "
            f"down by day can be imported: {HOW_TO_EXPORT[platform]}",
            header_row=undated.line,
        )
    if layout is None:
        day_names = " or ".join(a.title() for a in ALIASES[platform]["day"][:2])
        raise FileProblem(
            f"No {label} header row in the first {HEADER_SCAN_LINES} lines: expected a date column "
            f"({day_names}) and a cost column. {HOW_TO_EXPORT[platform]}"
        )
    if "campaign" not in layout.columns and "campaign_id" not in layout.columns:
        raise FileProblem(
            f"The header on line {layout.header_line} has no campaign column (Campaign or "
            f"Campaign ID): only daily campaign reports can be imported. {HOW_TO_EXPORT[platform]}",
            header_row=layout.header_line,
        )
    day_column = norm(layout.header[layout.columns["day"]])
    layout.day_first_default = day_column not in ENGLISH_DAY_COLUMNS
    return layout


def _refuse_other_platform(text: Text, platform: str, seen: set[str]) -> None:
    label = PLATFORM_LABELS[platform]
    for other, signature in SIGNATURES.items():
        if other == platform or other in NOT_IMPORTED or not seen & signature:
            continue
        if _scan(text, other)[0] is not None:
            raise FileProblem(
                f"This looks like a {FOREIGN_LABELS[other]} export, not {label}: "
                f"choose {FOREIGN_LABELS[other]} as the platform."
            )
