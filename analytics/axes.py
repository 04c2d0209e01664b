"""Plotly axes people can read: dates one tick per day over short ranges (weeks or months over
long ones, never hours), whole numbers on count axes, and money in the currency's own symbol
and decimals. Pure functions returning layout dicts; no Flask."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from babel.numbers import format_currency

from core.money import DEFAULT_LOCALE, exponent

DAY_MS = 86_400_000
DAILY_UP_TO = 14  # days: beyond this a tick per day no longer fits a chart's width
WEEKLY_UP_TO = 92
MONTHLY_UP_TO = 732


def date_axis(first: date, last: date) -> dict:
    """An x axis from `first` to `last` (inclusive) with a tick on whole days only.

    Plotly's own choice for a few days is a tick every 12 hours, which prints each date twice
    (or shows times of day); half a day of padding keeps the end bars whole."""
    last = max(first, last)
    days = (last - first).days + 1
    axis: dict = {
        "type": "date",
        "range": [f"{first - timedelta(days=1)} 12:00", f"{last} 12:00"],
        "hoverformat": "%a %d %b %Y",
        "tickmode": "linear",
        "showgrid": False,
    }
    if days <= DAILY_UP_TO:
        return axis | {"tick0": first.isoformat(), "dtick": DAY_MS, "tickformat": "%d %b"}
    if days <= WEEKLY_UP_TO:
        monday = first - timedelta(days=first.weekday())
        return axis | {"tick0": monday.isoformat(), "dtick": 7 * DAY_MS, "tickformat": "%d %b"}
    months = "M1" if days <= 366 else ("M3" if days <= MONTHLY_UP_TO else "M12")
    fmt = "%Y" if months == "M12" else "%b %Y"
    return axis | {"tick0": first.replace(day=1).isoformat(), "dtick": months, "tickformat": fmt}


def nice_step(top: float, smallest: float = 1.0, ticks: int = 5) -> float:
    """A 1-2-5 step giving about `ticks` ticks from 0 to `top`, never below `smallest`."""
    raw = max(float(top), 0.0) / ticks
    if raw <= smallest:
        return smallest
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(round(m * magnitude, 12) for m in (1, 2, 5, 10) if raw <= m * magnitude)


def count_axis(title: str, top: float) -> dict:
    """A y axis for counts (conversions, clicks): whole-number ticks only."""
    return {
        "title": title,
        "rangemode": "tozero",
        "tickformat": ",d",
        "hoverformat": ",d",
        "tickmode": "linear",  # Plotly 3 would sync an overlaying axis to the other's grid
        "tick0": 0,
        "dtick": int(nice_step(top)),
    }


def percent_axis(title: str) -> dict:
    """A y axis in per cent (ROI) with its own round ticks, not the other axis's grid."""
    return {"title": title, "tickmode": "auto", "ticksuffix": "%", "zeroline": True}


def currency_affixes(currency: str) -> tuple[str, str]:
    """What the currency's format puts before and after the number: ("€", ""), ("CHF ", "")
    (a no-break space after a letter code)."""
    text = format_currency(Decimal(0), currency, locale=DEFAULT_LOCALE)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    prefix, suffix = text[: digits[0]], text[digits[-1] + 1 :]
    # "CHF1,000" is how the tables read, but on an axis the code needs room from the number.
    if prefix[-1:].isalpha():
        prefix += "\u00a0"
    if suffix[:1].isalpha():
        suffix = "\u00a0" + suffix
    return prefix, suffix


def money_axis(currency: str, top: float, title: str | None = None) -> dict:
    """A y axis for amounts in major units of `currency`: its symbol on every tick, whole
    amounts unless the range is small, and the currency's own decimals on hover."""
    digits = exponent(currency)
    step = nice_step(top, smallest=10.0**-digits)
    prefix, suffix = currency_affixes(currency)
    return {
        "title": title or currency,
        "rangemode": "tozero",
        "tickprefix": prefix,
        "ticksuffix": suffix,
        "tickformat": ",.0f" if step >= 1 else f",.{digits}f",
        "hoverformat": f",.{digits}f",
        "tickmode": "linear",
        "tick0": 0,
        "dtick": step,
    }
