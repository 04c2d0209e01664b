"""Reading spreadsheet CSVs as people really save them, and the cell parsers imports share.

Encodings: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one when the NUL
pattern gives it away), else Windows-1252 (Excel's "CSV" on Western Windows), else Latin-1.
Delimiters: comma, semicolon (European Excel), tab or pipe, judged from the header line.
Files are read as streams (core/uploads.py): never whole in memory, lines and rows capped.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlsplit

from campaigns.services import parse_number
from core.uploads import CHUNK, Counting, Limits, Source, UploadProblem, text_lines

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


class CsvTable:
    """A CSV file on disk (or in memory) read as a stream: the header now, `rows()` on demand.

    Made by `read_table`, whose first pass confirmed the encoding and counted the rows, so
    nothing is held but the header; each `rows()` reads the file again from the start.
    """

    def __init__(self, source: Source, codec: str, encoding: str, max_line: int) -> None:
        self.source = source
        self.codec = codec
        self.encoding = encoding
        self.max_line = max_line
        self.delimiter = ","
        self.headers: list[str] = []
        self.row_count = 0
        self._counter: Counting | None = None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number in the file, cells) of each data row."""
        records = _records(self._lines(), self.delimiter)
        next(records, None)  # the header
        for line, cells in records:
            yield line, [c.strip()[:MAX_CELL] for c in cells]

    def fraction_read(self) -> float:
        if self._counter is None or not self.source.size:
            return 0.0
        return min(1.0, self._counter.count / self.source.size)

    def _lines(self) -> Iterator[str]:
        self._counter = Counting(self.source.open())
        lines = text_lines(io.BufferedReader(self._counter, CHUNK), self.codec, self.max_line)
        return (line.replace("\x00", "") for line in lines)


def _records(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records, the header first; CsvProblem for a line CSV cannot read."""
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise CsvProblem(f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None


def _candidates(head: bytes) -> list[tuple[str, str]]:
    """(codec, name shown) to try, best first; a BOM or UTF-16 leaves no second choice."""
    if head.startswith(codecs.BOM_UTF8):
        return [("utf-8-sig", "UTF-8")]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [("utf-16", "UTF-16")]
    sample = head[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: ASCII characters leave a NUL in every other byte.
        even = sample[0::2].count(b"\x00")
        odd = sample[1::2].count(b"\x00")
        return [("utf-16-be" if even > odd else "utf-16-le", "UTF-16")]
    return [("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1")]


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes | Source, limits: Limits | None = None) -> CsvTable:
    """The header of a CSV (the first non-blank row), its encoding confirmed by reading the
    whole file once, in constant memory, and its rows counted against `limits.max_rows`.

    Raises CsvProblem when the file as a whole cannot be read (empty, not the encoding it
    claims, a line too long, more rows than an import takes).
    """
    source = data if isinstance(data, Source) else Source(data=bytes(data or b""))
    limits = limits or Limits()
    try:
        head = source.head(65536)
    except OSError:
        raise CsvProblem("The uploaded file could not be read back: upload it again.") from None
    if not head.strip(b" \t\r\n\x00"):
        raise CsvProblem("The file is empty.")
    candidates = _candidates(head)
    while True:
        codec, name = candidates.pop(0)
        table = CsvTable(source, codec, name, limits.max_line)
        try:
            _first_pass(table, limits.max_rows)
            return table
        except UnicodeDecodeError:
            if candidates:
                continue
            shown = "UTF-8" if codec == "utf-8-sig" else codec.upper()
            raise CsvProblem(f"The file says it is {shown} but is not valid {codec}.") from None
        except UploadProblem as exc:
            raise CsvProblem(str(exc)) from None


def _first_pass(table: CsvTable, max_rows: int) -> None:
    lines = table._lines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise CsvProblem("The file is empty.")
    table.delimiter = _delimiter(first)
    records = _records(itertools.chain([first], lines), table.delimiter)
    header = next(records, None)
    if header is None:
        raise CsvProblem("The file is empty.")
    table.headers = [c.strip().lstrip("\ufeff") for c in header[1]]
    for count, _record in enumerate(records, start=1):
        if count > max_rows:
            raise CsvProblem(
                f"The file has more than {max_rows:,} rows, more than one import takes: "
                "split it and import the parts one by one. Nothing was imported."
            )
        table.row_count = count


def iter_mapped(
    table: CsvTable, mapping: dict[int, str]
) -> Iterator[tuple[int, dict[str, tuple[str, str]]]]:
    """Each data row as {target: (header, cell)} for the mapped, non-blank cells."""
    for line, cells in table.rows():
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
