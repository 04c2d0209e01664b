"""CSV and XLSX writers shared by every export: typed numbers, injection-safe text, streaming.

Text cells that begin with =, +, -, @, tab or CR are prefixed with a single quote so no
spreadsheet evaluates them; numbers stay numbers (int, Decimal → numeric cells).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

import xlsxwriter

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(str(value))


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; also quotes a bare CR
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
    return count


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Stream CSV text chunk by chunk (for a streamed HTTP response)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for i, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(v) for v in row])
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
