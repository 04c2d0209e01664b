"""A CSV export read as a stream of rows: `parse_file`.

The text is read twice and neither pass keeps it in memory: the first learns the file's
conventions (D/M or M/D dates, decimal comma) and refuses an export whose rows are not days;
the second yields the rows one at a time, so a file of any length is read in constant memory
(the grouping that consumes them keeps one entry per campaign-day).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from ads.csv_cells import EMPTY_CELLS, Sniffer, parse_range, short
from ads.csv_dates import DateEvidence
from ads.csv_formats import FileProblem, Layout, decode, find_layout, norm, read_records
from ads.csv_platforms import HOW_TO_EXPORT, PLATFORM_DATE_ORDER, PLATFORM_LABELS
from ads.csv_rows import MAX_ERRORS, TOTAL_LINE, Row, RowError, RowReader


@dataclass
class Parsed:
    """What reading found. `rows` is consumed once; the counters are final after that."""

    encoding: str
    layout: Layout
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
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

    def reject(self, problems: list[RowError]) -> None:
        """One rejected row and its problems."""
        self.rejected += 1
        self.error_count += len(problems)
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(problems[:room])


def parse_file(
    platform: str,
    data: bytes,
    account_id: str,
    currency: str | None,
    date_order: str | None = None,
) -> Parsed:
    """The file's layout and its rows (lazily); FileProblem when nothing can be imported."""
    if not data.strip():
        raise FileProblem("The file is empty.")
    text, encoding = decode(data)
    if not text.strip():
        raise FileProblem("The file is empty.", encoding)
    try:
        layout = find_layout(text, platform)
        _learn_conventions(text, layout, platform, date_order)
    except FileProblem as exc:
        exc.encoding = encoding
        raise
    reader = RowReader(layout, account_id, currency)
    parsed = Parsed(encoding, layout, has_campaign_id="campaign_id" in layout.columns)
    parsed.currency_column = reader.column("currency")
    parsed.campaign_column = reader.column("campaign_id" if parsed.has_campaign_id else "campaign")
    parsed.rows = _rows(text, reader, parsed)
    return parsed


def _data_records(text: str, layout: Layout) -> Iterator[tuple[int, list[str]]]:
    return islice(read_records(text, layout.delimiter), layout.header_index + 1, None)


def _learn_conventions(text: str, layout: Layout, platform: str, date_order: str | None) -> None:
    """How dates are written (csv_dates) and the decimal comma, from the whole file; refuse a
    file whose rows each cover more than one day (LinkedIn's default "All" or "Monthly"
    breakdown, a date-range column)."""
    cols = layout.columns
    sniffer = Sniffer(layout.delimiter)
    dates = DateEvidence()
    day_col, end_col = cols["day"], cols.get("end_day")
    money = [cols[k] for k in ("spend", "conversion_value", "daily_spend") if k in cols]
    dated = spans = 0
    example = ""
    try:
        for _line, cells in _data_records(text, layout):
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


def _rows(text: str, reader: RowReader, parsed: Parsed) -> Iterator[Row]:
    header_norm = [norm(c) for c in reader.header]
    for line, cells in _data_records(text, reader.layout):
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
