"""How one export writes its dates, decided once per file from its rows, and the rows that do
not follow it.

Every day cell has a *shape*: `2026-11-05`, `11/5/2026`, `05.11.2026`, `Nov 5, 2026`,
`5 Nov 2026`… The file's shape is the one most of its day cells have; a row written in another
shape is a bad row (a Google Ads export row dated `05/11/2026` among ISO dates is not guessed).

Numeric dates with `/` or `-` need the order of day and month. What settles it, first match:
1. the person's choice (the import form's "Date order", `--date-order`);
2. the values: a first number above 12 is a day (`25/11/2026`), a second above 12 a day too
   (`11/25/2026`); when both kinds occur, the majority wins and the others are bad rows;
3. the report's date range above the header ("November 1, 2026 - November 30, 2026", as
   Google Ads writes it): the one reading that puts every date inside it;
4. the day column's language: only US English writes the month first, so a column named
   "Tag", "Jour", "Día", "Data de início"… means day/month;
5. the platform's known export: LinkedIn Campaign Manager's English exports are month/day.
Otherwise a date like `05/11/2026` (both numbers 12 or below, and different) is a bad row that
says so, and the form offers the choice; `05/05/2026` reads the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ads.csv_cells import date_shape, numeric_parts, short

ORDERS = {"dmy": "day/month", "mdy": "month/day"}


@dataclass
class DateRule:
    """What pass one decided: the day order (None: nothing tells), why, and the file's shape."""

    order: str | None
    why: str
    shape: str | None = None
    example: str = ""

    @property
    def day_first(self) -> bool:
        return self.order == "dmy"

    def problem(self, raw: str) -> str | None:
        """Why this day cell does not follow the file's dates (None: it does, or it is no
        single date at all and the date parser says what it is)."""
        shape = date_shape(raw)
        if shape is None:
            return None
        if self.shape is not None and shape != self.shape:
            return (
                f"'{short(raw)}' is not written like this file's other dates (e.g. "
                f"'{short(self.example)}'): a date in another format is not guessed"
            )
        parts = numeric_parts(raw)
        if parts is None:
            return None
        first, second, year, _sep = parts
        if self.order is None:
            if first <= 12 and second <= 12 and first != second:
                return _ambiguous(raw, first, second, year)
            return None
        day, month = (first, second) if self.order == "dmy" else (second, first)
        if month > 12 and day <= 12:
            other = "mdy" if self.order == "dmy" else "dmy"
            return (
                f"'{short(raw)}' is {ORDERS[other]}, but this file's dates are "
                f"{ORDERS[self.order]} ({self.why})"
            )
        return None


def _ambiguous(raw: str, first: int, second: int, year: int) -> str:
    try:
        as_dmy = f"{date(year, second, first):%d %b %Y}"
        as_mdy = f"{date(year, first, second):%d %b %Y}"
    except ValueError:
        return f"'{short(raw)}' is not a date"
    return (
        f"'{short(raw)}' could be {as_dmy} or {as_mdy}, and nothing in the file tells which "
        "(no day above 12, no report date range): choose the date order when importing, or "
        "export the report with dates like 2026-11-05"
    )


@dataclass
class _Reading:
    """The span of the day cells read in one order; impossible once a cell is no date."""

    possible: bool = True
    first: date | None = None
    last: date | None = None

    def add(self, year: int, month: int, day: int) -> None:
        if not self.possible:
            return
        try:
            value = date(year, month, day)
        except ValueError:
            self.possible = False
            return
        self.first = value if self.first is None else min(self.first, value)
        self.last = value if self.last is None else max(self.last, value)

    def inside(self, span: tuple[date, date]) -> bool:
        if not self.possible or self.first is None or self.last is None:
            return False
        return span[0] <= self.first and self.last <= span[1]


@dataclass
class DateEvidence:
    """Fed the cells of pass one; `rule()` then decides."""

    day_first_values: int = 0  # numeric dates whose first number is above 12
    month_first_values: int = 0  # … whose second number is above 12
    examples: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, list] = field(default_factory=dict)  # shape -> [count, example]
    readings: dict[str, _Reading] = field(
        default_factory=lambda: {"dmy": _Reading(), "mdy": _Reading()}
    )
    _days: dict[str, tuple] = field(default_factory=dict)  # day cell -> (its shape's count, order)

    def cell(self, raw: str) -> str | None:
        """Any numeric date of a row (LinkedIn's campaign start dates tell the order too);
        returns the order it proves, if any."""
        parts = numeric_parts(raw)
        if parts is None:
            return None
        first, second, _year, _sep = parts
        if first > 12 and second <= 12:
            self._count("dmy", raw)
            return "dmy"
        if second > 12 and first <= 12:
            self._count("mdy", raw)
            return "mdy"
        return None

    def _count(self, order: str, raw: str) -> None:
        if order == "dmy":
            self.day_first_values += 1
        else:
            self.month_first_values += 1
        self.examples.setdefault(order, raw.strip())

    def day(self, raw: str) -> None:
        """A day-column cell: its shape, and where it falls in either order (a file has few
        distinct dates and many rows: each is weighed once, then counted)."""
        known = self._days.get(raw)
        if known is not None:
            shape_seen, order = known
            shape_seen[0] += 1
            if order is not None:
                self._count(order, raw)
            return
        shape = date_shape(raw)
        if shape is None:
            return
        seen = self.shapes.setdefault(shape, [0, raw.strip()])
        seen[0] += 1
        parts = numeric_parts(raw)
        if parts is not None:
            first, second, year, _sep = parts
            self.readings["mdy"].add(year, first, second)
            self.readings["dmy"].add(year, second, first)
        order = self.cell(raw)
        if len(self._days) < 100_000:
            self._days[raw] = (seen, order)

    def rule(
        self,
        *,
        chosen: str | None = None,
        date_range: tuple[date, date] | None = None,
        range_line: int | None = None,
        day_column: str = "",
        column_is_english: bool = True,
        platform_order: str | None = None,
        platform_label: str = "",
    ) -> DateRule:
        shape, example = None, ""
        if self.shapes:
            # The most common shape; on a tie the first seen (dicts keep insertion order).
            shape = max(self.shapes, key=lambda s: self.shapes[s][0])
            example = self.shapes[shape][1]
        order, why = self._order(
            chosen,
            date_range,
            range_line,
            day_column,
            column_is_english,
            platform_order,
            platform_label,
        )
        return DateRule(order, why, shape, example)

    def _order(
        self,
        chosen: str | None,
        date_range: tuple[date, date] | None,
        range_line: int | None,
        day_column: str,
        column_is_english: bool,
        platform_order: str | None,
        platform_label: str,
    ) -> tuple[str | None, str]:
        if chosen in ORDERS:
            return chosen, "as chosen for this import"
        if self.day_first_values or self.month_first_values:
            order = "dmy" if self.day_first_values >= self.month_first_values else "mdy"
            return order, f"e.g. '{short(self.examples[order])}'"
        if date_range is not None:
            fits = [o for o, reading in self.readings.items() if reading.inside(date_range)]
            if len(fits) == 1:
                return fits[0], f"the report's date range on line {range_line}"
        if not column_is_english:
            return "dmy", f"the date column is named “{day_column}”"
        if platform_order in ORDERS:
            return (
                platform_order,
                f"{platform_label}'s English exports write {ORDERS[platform_order]}",
            )
        return None, "nothing in the file tells"
