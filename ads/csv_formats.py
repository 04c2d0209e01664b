"""Reading a platform export's bytes: the encoding, the delimiter, and the header row.

Files come as the platforms write them: UTF-8, UTF-8 with BOM, UTF-16 (Google's "Excel CSV",
tab separated) or cp1252; `,` `;` or tab separated; title, date-range and metadata lines above
the header. A zip holding one CSV is opened; workbooks, web pages and other files that are not
CSV are refused with what to do instead. Which columns each platform has is `csv_platforms`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice

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

HEADER_SCAN_LINES = 30
DELIMITERS = (",", "\t", ";")
MAX_UNZIPPED = 512 * 1024 * 1024  # a zip may not unpack to more than this
MICROS = Decimal("0.000001")

_NON_WORD = re.compile(r"[\W_]+")
_HEADER_CURRENCY = re.compile(r"\(\s*(?:in\s+)?([A-Za-z]{3})\s*\)\s*$")  # "(USD)", "(in EUR)"
_SAVE_AS_CSV = (
    "download the report as CSV, or open it in Excel and save it as “CSV UTF-8 (Comma delimited)”."
)
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def norm(text: str) -> str:
    """A header cell as compared with the aliases: case-folded letters and digits."""
    return _NON_WORD.sub("", text.casefold())


class FileProblem(ValueError):
    def __init__(self, message: str, encoding: str = "", header_row: int | None = None) -> None:
        super().__init__(message)
        self.encoding = encoding
        self.header_row = header_row


# --- decoding -----------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: by BOM, else UTF-16 by its zero bytes, else UTF-8, cp1252."""
    if data.startswith(b"PK\x03\x04"):
        data = _unzip(data)
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise FileProblem(f"This is {what}, not a CSV file: {_SAVE_AS_CSV}")
    text, encoding = _text(data)
    _refuse_markup(text, encoding)
    return text, encoding


def _unzip(data: bytes) -> bytes:
    """The one CSV inside a zip; a workbook (also a zip) or several files are refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            names = [m.filename for m in members]
            if any(n.startswith("xl/") for n in names):
                raise FileProblem(
                    f"This is an Excel workbook (.xlsx), not a CSV file: {_SAVE_AS_CSV}"
                )
            if "mimetype" in names or any(n.startswith("word/") for n in names):
                raise FileProblem(f"This is an office document, not a CSV file: {_SAVE_AS_CSV}")
            tables = [
                m
                for m in members
                if m.filename.lower().endswith((".csv", ".tsv", ".txt"))
                and not m.filename.startswith("__MACOSX/")
            ]
            if len(tables) != 1:
                raise FileProblem(
                    f"This zip file holds {len(tables)} CSV files: unpack it and import the "
                    "daily campaign report on its own."
                )
            if tables[0].file_size > MAX_UNZIPPED:
                raise FileProblem("The CSV file in this zip file is too large to import.")
            with archive.open(tables[0]) as member:
                inner = member.read(MAX_UNZIPPED + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise FileProblem(
            "This is a zip file that cannot be opened: import the CSV itself."
        ) from None
    if len(inner) > MAX_UNZIPPED:
        raise FileProblem("The CSV file in this zip file is too large to import.")
    if inner.startswith(b"PK\x03\x04"):
        raise FileProblem("This zip file holds another zip file: import the CSV itself.")
    return inner


def _text(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        sample = data[:4000]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if len(sample) >= 4 and odd > len(sample) // 4 and even == 0:
            candidates = ["utf-16-le"]
        elif len(sample) >= 4 and even > len(sample) // 4 and odd == 0:
            candidates = ["utf-16-be"]
        else:
            # latin-1 decodes anything: binary content is caught by the control-character check.
            candidates = ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16":
            encoding = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
            text = text.lstrip("\ufeff")
        if "\x00" in text or _control_share(text) > 0.01:
            raise FileProblem("This is not a text CSV file (it contains binary data).", encoding)
        return text, encoding
    raise FileProblem("The file's text encoding could not be read (expected UTF-8 or UTF-16).")


def _refuse_markup(text: str, encoding: str) -> None:
    """Web pages saved as .xls, Excel's XML spreadsheets and JSON are text, but not CSV."""
    head = text[:2000].lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<head", "<body")):
        what = "a web page (HTML)"
    elif head.startswith("<?xml") and "office:spreadsheet" in head:
        what = "an Excel XML spreadsheet"
    elif head.startswith("<?xml"):
        what = "an XML file"
    elif head.startswith(("{", "[{", "[\n")):
        what = "a JSON file"
    else:
        return
    raise FileProblem(f"This is {what}, not a CSV file: {_SAVE_AS_CSV}", encoding)


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return bad / len(sample)


def read_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the record's first line, cells), counting lines as a spreadsheet does."""
    reader = csv.reader(_lines(text), delimiter=delimiter, skipinitialspace=True)
    last = 0
    for cells in reader:
        yield last + 1, cells
        last = reader.line_num


def _lines(text: str) -> Iterator[str]:
    """The lines of the text one at a time, without a copy of the whole text (io.StringIO
    makes one, four bytes a character once a non-ASCII character is in it)."""
    if "\n" not in text and "\r" in text:  # old Mac line ends: rare and small
        yield from io.StringIO(text, newline="")
        return
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


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


def _scan(text: str, platform: str) -> tuple[Layout | None, set[str], _Undated | None]:
    """The best header row in the first lines, the normalised cells seen up to it, and a
    campaign header that lacks a date column (a report without the day segment)."""
    best: tuple[int, Layout, set[str]] | None = None
    seen_all: set[str] = set()
    undated = None
    for delimiter in DELIMITERS:
        try:
            head = list(islice(read_records(text, delimiter), HEADER_SCAN_LINES))
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


def find_layout(text: str, platform: str) -> Layout:
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


def _refuse_other_platform(text: str, platform: str, seen: set[str]) -> None:
    label = PLATFORM_LABELS[platform]
    for other, signature in SIGNATURES.items():
        if other == platform or other in NOT_IMPORTED or not seen & signature:
            continue
        if _scan(text, other)[0] is not None:
            raise FileProblem(
                f"This looks like a {FOREIGN_LABELS[other]} export, not {label}: "
                f"choose {FOREIGN_LABELS[other]} as the platform."
            )
