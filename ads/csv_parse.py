"""A CSV export read as a stream of rows: `parse_file`.

The text is read twice from its file and neither pass keeps it in memory: the first learns
the file's conventions (its encoding, how it writes dates, decimal comma), counts its rows
against the cap and refuses an export whose rows are not days; the second yields the rows one
at a time, so a file of any length is read in constant memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from ads.csv_cells import EMPTY_CELLS, Sniffer, parse_range, short
from ads.csv_dates import DateEvidence
from ads.csv_formats import FileProblem, Layout, find_layout, norm, read_records
from ads.csv_platforms import HOW_TO_EXPORT, PLATFORM_DATE_ORDER, PLATFORM_LABELS
from ads.csv_rows import MAX_ERRORS, TOTAL_LINE, Row, RowError, RowReader
from ads.csv_text import Text, open_text
from core.uploads import Limits, Source, UploadProblem

PROGRESS_EVERY = 5000  # records between progress reports
Progress = Callable[[str, float], None]  # (stage, fraction of the file read)


@dataclass
class Parsed:
    """What reading found. `rows` is consumed once; the counters are final after that."""

    encoding: str
    layout: Layout
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS, and some
    error_count: int = 0
    rejected: int = 0
    data_rows: int = 0
    skipped_totals: list[int] = field(default_factory=list)
    skipped_other: list[int] = field(default_factory=list)
    period_rows: int = 0  # rejected for covering more than one day
    currency_column: str = "Currency"
    campaign_column: str = "Campaign"
    has_campaign_id: bool = False
    # What storing decided that the report must say (campaigns merged or kept apart).
    notes: list[str] = field(default_factory=list)
    text: Text | None = None

    def reject(self, problems: list[RowError]) -> None:
        """One rejected row and its problems; the report keeps those of the first rows
        (rows are rejected out of order when stored a bucket at a time)."""
        self.rejected += 1
        self.error_count += len(problems)
        self.errors.extend(problems)
        if len(self.errors) >= 2 * MAX_ERRORS:
            self.errors.sort(key=lambda e: e.row)
            del self.errors[MAX_ERRORS:]


def parse_file(
    platform: str,
    data: bytes | Source,
    account_id: str,
    currency: str | None,
    date_order: str | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> Parsed:
    """The file's layout and its rows (lazily); FileProblem when nothing can be imported.

    Pass one reads every record (the encoding is confirmed, or the next one tried; the row
    cap is checked; dates and numbers learnt); the rows are pass two, read when consumed.
    """
    source = data if isinstance(data, Source) else Source(data=bytes(data))
    limits = limits or Limits()
    text = open_text(source, limits)
    while True:
        try:
            layout = find_layout(text, platform)
            _learn_conventions(text, layout, platform, date_order, limits, progress)
            break
        except UnicodeDecodeError:
            if not text.fallback():
                raise FileProblem(
                    "The file's text encoding could not be read (expected UTF-8 or UTF-16)."
                ) from None
        except UploadProblem as exc:
            raise FileProblem(str(exc), text.encoding) from None
        except FileProblem as exc:
            exc.encoding = text.encoding
            raise
    reader = RowReader(layout, account_id, currency)
    parsed = Parsed(text.encoding, layout, has_campaign_id="campaign_id" in layout.columns)
    parsed.currency_column = reader.column("currency")
    parsed.campaign_column = reader.column("campaign_id" if parsed.has_campaign_id else "campaign")
    parsed.text = text
    parsed.rows = _rows(text, reader, parsed, progress)
    return parsed


def _data_records(text: Text, layout: Layout) -> Iterator[tuple[int, list[str]]]:
    return islice(read_records(text.lines(), layout.delimiter), layout.header_index + 1, None)


def _learn_conventions(
    text: Text,
    layout: Layout,
    platform: str,
    date_order: str | None,
    limits: Limits,
    progress: Progress | None,
) -> None:
    """How dates are written (csv_dates) and the decimal comma, from the whole file; refuse a
    file whose rows each cover more than one day (LinkedIn's default "All" or "Monthly"
    breakdown, a date-range column)."""
    cols = layout.columns
    sniffer = Sniffer(layout.delimiter)
    dates = DateEvidence()
    day_col, end_col = cols["day"], cols.get("end_day")
    money = [cols[k] for k in ("spend", "conversion_value", "daily_spend") if k in cols]
    dated = spans = records = 0
    example = ""
    try:
        for _line, cells in _data_records(text, layout):
            records += 1
            if records % PROGRESS_EVERY == 0 and progress is not None:
                progress("reading", text.fraction_read())
            if records > limits.max_rows and any(c.strip() for c in cells):
                raise FileProblem(
                    f"This file has more than {limits.max_rows:,} rows, more than one import "
                    "takes: export a shorter period (or split the file) and import the parts "
                    "one by one. Nothing was imported.",
                    header_row=layout.header_line,
                )
            if len(cells) <= day_col:
                continue
            raw = cells[day_col].strip()
            dates.day(raw)
            # Every date of the row tells the order: LinkedIn's campaign start dates too.
            for index, cell in enumerate(cells):
                if "/" in cell and index != day_col:
                    dates.cell(cell)
            for index in money:
                if index < len(cells):
                    sniffer.amount(cells[index])
            if not raw or TOTAL_LINE.match(raw):
                continue
            dated += 1
            end = cells[end_col].strip() if end_col is not None and end_col < len(cells) else ""
            if end and end != raw and end.lower() not in EMPTY_CELLS:
                spans += 1
                example = example or f"{raw} to {end}"
            elif ("-" in raw or "~" in raw or " to " in raw) and parse_range(raw, False):
                spans += 1
                example = example or raw
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV: {exc}.", "", layout.header_line) from None
    layout.records = records
    layout.dates = dates.rule(
        chosen=date_order,
        date_range=layout.date_range,
        range_line=layout.range_line,
        day_column=layout.header[day_col].strip().lstrip("\ufeff"),
        column_is_english=not layout.day_first_default,
        platform_order=PLATFORM_DATE_ORDER.get(platform),
        platform_label=PLATFORM_LABELS[platform],
    )
    layout.day_first = layout.dates.day_first
    layout.decimal_comma = sniffer.decimal_comma
    if dated and spans == dated:
        raise FileProblem(
            f"Every row covers more than one day (the first: {short(example)}), so these are "
            f"totals for a period, not days. {HOW_TO_EXPORT[platform]}",
            header_row=layout.header_line,
        )


def _rows(
    text: Text, reader: RowReader, parsed: Parsed, progress: Progress | None
) -> Iterator[Row]:
    header_norm = [norm(c) for c in reader.header]
    for count, (line, cells) in enumerate(_data_records(text, reader.layout), start=1):
        if count % PROGRESS_EVERY == 0 and progress is not None:
            progress("grouping", text.fraction_read())
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
            parsed.reject(outcome)
            parsed.period_rows += reader.covers_days
        else:
            yield outcome
