"""Reading spreadsheet CSVs as people really save them, and the cell parsers imports share.

Encodings: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one when the NUL
pattern gives it away), else Windows-1252 (Excel's "CSV" on Western Windows), else Latin-1.
Delimiters: comma, semicolon (European Excel), tab or pipe, judged from the header line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlsplit

from campaigns.services import parse_number

DELIMITERS = (",", ";", "\t", "|")
MAX_CELL = 5000
_HANDLE = re.compile(r"[a-z0-9._\-]{1,100}")
_DOMAIN = re.compile(r"[a-z0-9\-]+(\.[a-z0-9\-]+)+")
_SUFFIX = {"k": 1000, "m": 1_000_000}
FOUR = Decimal("0.0001")
_PLAIN = re.compile(r"\d{1,3}(\.\d{1,8})?")


class CsvProblem(ValueError):
    """The file as a whole cannot be read (empty, no header, not text)."""


class CellError(ValueError):
    """One cell is wrong; the message says how, in words a coordinator understands."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    problem: str


@dataclass(frozen=True)
class CsvTable:
    encoding: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to text and the encoding used."""
    if not data or not data.strip(b" \t\r\n\x00"):
        raise CsvProblem("The file is empty.")
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "UTF-16"
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: ASCII characters leave a NUL in every other byte.
        even = sample[0::2].count(b"\x00")
        odd = sample[1::2].count(b"\x00")
        codec = "utf-16-be" if even > odd else "utf-16-le"
        return _strict(data, codec), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise CsvProblem(f"The file says it is {codec.upper()} but is not valid {codec}.") from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes) -> CsvTable:
    """Decode and split a CSV; the first non-blank row is the header."""
    text, encoding = decode(data)
    text = text.replace("\x00", "")
    first = text.lstrip().split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if headers is None:
                headers = [c.strip().lstrip("\ufeff") for c in cells]
                continue
            rows.append((reader.line_num, [c.strip()[:MAX_CELL] for c in cells]))
    except csv.Error as exc:
        raise CsvProblem(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    if not headers:
        raise CsvProblem("The file is empty.")
    return CsvTable(encoding, headers, rows)


def iter_mapped(
    table: CsvTable, mapping: dict[int, str]
) -> Iterator[tuple[int, dict[str, tuple[str, str]]]]:
    """Each data row as {target: (header, cell)} for the mapped, non-blank cells."""
    for line, cells in table.rows:
        values: dict[str, tuple[str, str]] = {}
        for index, target in mapping.items():
            if target and index < len(cells) and cells[index] != "":
                values[target] = (table.headers[index], cells[index])
        yield line, values


def normalise_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


# --- cells --------------------------------------------------------------------------------


def parse_count(text: str) -> int:
    """A whole, non-negative number: '12,345', '12.5k', '1.2M'."""
    if text.isascii() and text.isdigit() and len(text) < 16:
        return int(text)  # the common case, without the Decimal round trip
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    factor = 1
    if cleaned[-1:].lower() in _SUFFIX:
        factor = _SUFFIX[cleaned[-1].lower()]
        cleaned = cleaned[:-1]
    value = parse_number(cleaned) if "%" not in cleaned else None
    if value is None:
        raise CellError(f"“{text}” is not a number")
    value *= factor
    if value < 0:
        raise CellError(f"“{text}” is negative")
    if value != value.to_integral_value():
        raise CellError(f"“{text}” is not a whole number")
    if value >= 10**15:
        raise CellError(f"“{text}” is too large")
    return int(value)


def parse_percent(text: str) -> Decimal:
    """A rate in percent from 0 to 100: '3.2', '3.2%'; kept to 4 decimals."""
    value = Decimal(text) if _PLAIN.fullmatch(text) else parse_number(text)
    if value is None:
        raise CellError(f"“{text}” is not a number (use 3.2 or 3.2% for 3.2 %)")
    if not 0 <= value <= 100:
        raise CellError(f"“{text}” is not a percentage from 0 to 100")
    return value.quantize(FOUR, rounding=ROUND_HALF_EVEN)


def parse_day(text: str) -> date:
    """ISO dates ('2026-03-01') or timestamps ('2026-03-01T10:20:00Z')."""
    cleaned = text.strip()
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(cleaned.replace("Z", "+00:00")).date()
    except ValueError:
        raise CellError(f"“{text}” is not a date like 2026-03-01") from None


def normalise_handle(platform: str, raw: str) -> str:
    """'@Anna.Runs', 'https://instagram.com/anna.runs/' → 'anna.runs'; blogs → their domain."""
    text = raw.strip()
    if platform != "blog" and _HANDLE.fullmatch(text.lower()):
        return text.lower()  # the common case: already a bare handle
    if platform == "blog":
        parts = urlsplit(text if "//" in text else "//" + text)
        host = (parts.hostname or "").removeprefix("www.")
        if len(host) > 100 or not _DOMAIN.fullmatch(host):
            raise CellError(f"“{raw}” is not a blog address like example.com")
        return host
    if "/" in text:
        segments = [s for s in urlsplit(text if "//" in text else "//" + text).path.split("/") if s]
        text = segments[-1] if segments else ""
    handle = text.lstrip("@").lower()
    if not _HANDLE.fullmatch(handle):
        raise CellError(f"“{raw}” is not a handle (letters, digits, . _ - only)")
    return handle
