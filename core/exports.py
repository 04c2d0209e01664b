"""CSV and XLSX writers shared by every export: typed numbers, injection-safe text, streaming.

Text cells that begin with =, +, -, @, tab or CR are prefixed with a single quote so no
spreadsheet evaluates them; numbers stay numbers (int, Decimal → numeric cells).

CSV is written for every spreadsheet's idea of a separator, not only the comma: Excel in
locales whose list separator is `;` splits `a;=2*3;` into cells and evaluates `=2*3`. So a
cell holding a comma, semicolon, pipe, tab, quote or line break is quoted, and formula characters
that follow any separator (`,` `;` tab `|` or a line break) are neutralised as well, in case
the reader ignores the quotes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

import xlsxwriter

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The start or a separator, then spaces or quotes a reader may strip, then a formula character.
_AFTER_SEPARATOR = re.compile(r"((?:^|[,;\t|\r\n])[ \"]*)(?=[=+\-@])")
_MUST_QUOTE = re.compile(r'[,;|"\t\r\n]')


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def csv_text(text: str, neutralise_formulas: bool = True) -> str:
    """One CSV field: neutralised at its start and after every separator, quoted (RFC 4180,
    quotes doubled) when it holds a comma, semicolon, pipe, tab, quote, CR or LF."""
    if neutralise_formulas:
        text = _AFTER_SEPARATOR.sub(r"\1'", neutralise(text))
    if _MUST_QUOTE.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return csv_text(str(value))


def _csv_line(cells: Iterable[str]) -> str:
    return ",".join(cells) + "\r\n"  # RFC 4180 line ends


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    out.write(_csv_line(csv_text(h) for h in header))
    count = 0
    for row in rows:
        out.write(_csv_line(_csv_cell(v) for v in row))
        count += 1
    return count


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Stream CSV text chunk by chunk (for a streamed HTTP response)."""
    buf = io.StringIO()
    buf.write(_csv_line(csv_text(h) for h in header))
    for i, row in enumerate(rows, 1):
        buf.write(_csv_line(_csv_cell(v) for v in row))
        if i % 1000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def write_xlsx(
    out: BinaryIO | str,
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]], Sequence[Any] | None]],
) -> None:
    """Write sheets of (name, header, rows, totals-or-None) in constant memory.

    Header frozen and bold; Decimal written as numbers with their precision as the format.
    """
    workbook = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = workbook.add_format({"bold": True})
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_fmts: dict[int, Any] = {}

    def num_format(places: int):
        if places not in money_fmts:
            pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
            money_fmts[places] = workbook.add_format({"num_format": pattern})
        return money_fmts[places]

    def write_row(sheet, r: int, row: Sequence[Any], fmt_all=None) -> None:
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value, fmt_all)
            elif isinstance(value, Decimal):
                places = max(0, -value.as_tuple().exponent) if value.is_finite() else 0
                sheet.write_number(r, c, float(value), fmt_all or num_format(min(places, 6)))
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value, fmt_all)
            elif isinstance(value, datetime | date):
                # xlsx dates have no zone: a naive midnight is what Excel expects.
                day = datetime(value.year, value.month, value.day)  # noqa: DTZ001
                sheet.write_datetime(r, c, day, fmt_all or date_fmt)
            else:
                sheet.write_string(r, c, neutralise(str(value)), fmt_all)

    for name, header, rows, totals in sheets:
        sheet = workbook.add_worksheet(name[:31])
        write_row(sheet, 0, list(header), bold)
        sheet.freeze_panes(1, 0)
        r = 1
        for row in rows:
            write_row(sheet, r, row)
            r += 1
        if totals is not None:
            write_row(sheet, r, totals, None)
        sheet.set_column(0, max(0, len(header) - 1), 16)
    workbook.close()
