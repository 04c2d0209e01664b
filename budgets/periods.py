"""Budget periods: "2026-11" (a month), "2026-Q4" (a quarter), "2026-10-15..2026-12-31"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from budgets.models import PeriodKind

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|/)\s*(\d{4}-\d{2}-\d{2})")
MAX_CUSTOM_DAYS = 366 * 2


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_period(text: str) -> Period:
    """Read a period label; raise PeriodError with a message a person can act on."""
    raw = (text or "").strip()
    if m := _QUARTER.fullmatch(raw):
        year, quarter = int(m[1]), int(m[2])
        _check_year(year)
        start = date(year, 3 * quarter - 2, 1)
        return Period(
            PeriodKind.QUARTER,
            f"{year}-Q{quarter}",
            start,
            month_end(start.replace(month=3 * quarter)),
        )
    if m := _MONTH.fullmatch(raw):
        year, month = int(m[1]), int(m[2])
        _check_year(year)
        if not 1 <= month <= 12:
            raise PeriodError(f"{raw!r}: the month must be 01 to 12.")
        start = date(year, month, 1)
        return Period(PeriodKind.MONTH, f"{year}-{month:02d}", start, month_end(start))
    if m := _RANGE.fullmatch(raw):
        try:
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            raise PeriodError(f"{raw!r} holds a date that does not exist.") from None
        _check_year(start.year)
        _check_year(end.year)
        if end < start:
            raise PeriodError("The period must end on or after its start.")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError("A custom period can be at most two years long.")
        return Period(PeriodKind.CUSTOM, f"{start.isoformat()}..{end.isoformat()}", start, end)
    raise PeriodError(
        f"{raw or 'A blank'!r} is not a period: use 2026-11 (a month), 2026-Q4 (a quarter) or "
        "2026-10-15..2026-12-31 (a custom range)."
    )


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise PeriodError(f"{year} is outside the years Flightdeck plans for (2000–2100).")


def months_between(start: date, end: date) -> list[date]:
    """First days of every month touched by [start, end]."""
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = month_end(current) + timedelta(days=1)
    return months


def overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    return max(0, (min(a_end, b_end) - max(a_start, b_start)).days + 1)
