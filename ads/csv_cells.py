"""Cells of the platforms' CSV exports: numbers, money and dates as the exports write them.

Amounts come as `1,234.56`, `1.234,56 €`, `$12.00`, `CA$12.00`, `₹1,23,456.78`, `(12.00)`,
`--`; dates as `2026-03-01`, `3/1/2026`, `Sun, Mar 1, 2026`, `3 Nov 2026`, `01.03.2026`,
`3. März 2026`, `2026年3月1日`. Ambiguous numbers are settled per file by the `Sniffer` at
the end, the order of day and month by `csv_dates`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from core.money import known_currencies

EMPTY_CELLS = frozenset(
    {"", "-", "--", "—", "–", "−", "n/a", "na", "null", "none", "nan", "(none)"}
)
_DIGITS = re.compile(r"\d+")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_SIGNS = "$€£¥₹₩₽₺₪₫฿₱₦₴₲₵₡₸¢"
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # spaces and apostrophes group thousands
# sign, currency before ("$", "USD", "R$", "-€"), digits, currency or "%" after ("€", "kr.").
_AFFIXED = re.compile(
    rf"(?P<s1>[+\-−]?)(?P<pre>[^\W\d_]{{0,3}}\.?[{_SIGNS}]?)(?P<s2>[+\-−]?)(?P<num>[\d.,]+)"
    rf"(?P<post>[{_SIGNS}]?[^\W\d_]{{0,3}}\.?)(?P<s3>-?)%?"
)
_LOCAL_SYMBOLS = frozenset({"kr", "zł", "kč", "ft", "lei", "lv", "rm", "rp", "r", "fr", "us", "c"})
_LOCAL_SYMBOLS |= {"a", "nz", "hk", "s", "mx", "sfr", "chf", "tl", "din", "eur", "usd"}
# 1,234.56 and the Indian grouping 1,23,456.78 (Google Ads writes INR amounts so in en-IN).
_DOT_DECIMAL = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)(?:\.\d+)?")
_COMMA_DECIMAL = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")  # 1.234,56


def _clean(raw: str) -> tuple[bool, str] | None:
    """(negative, digits and separators), None for an empty cell ("--", "-", blank).

    Raises ValueError when anything but a currency sign or code, a sign or "%" is around.
    """
    text = raw.strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()  # a spreadsheet's way of keeping a cell as text
    if text.lower() in EMPTY_CELLS:
        return None
    text = _SPACES.sub("", text)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    found = _AFFIXED.fullmatch(text)
    if found is None:
        raise ValueError(f"'{short(raw)}' is not a number")
    for affix in ("pre", "post"):
        text_affix = found.group(affix)
        letters = text_affix.strip(_SIGNS + ".")
        # Letters before a sign name a country's dollar: "CA$", "AU$", "NT$", "HK$".
        dollar = any(ch in _SIGNS for ch in text_affix) and len(letters) <= 2
        currency_code = letters.upper() in known_currencies()
        if letters and not (currency_code or dollar) and letters.lower() not in _LOCAL_SYMBOLS:
            raise ValueError(f"'{short(raw)}' is not a number")
    signs = found.group("s1") + found.group("s2") + found.group("s3")
    if len(signs) > 1:
        raise ValueError(f"'{short(raw)}' is not a number")
    return negative or signs in ("-", "−"), found.group("num")


def parse_number(raw: str, decimal_comma: bool) -> Decimal:
    """A metric cell as a Decimal; `--`, `-` and blank are 0. Raises ValueError with the reason.

    "1,234" and "1.234" are ambiguous; `decimal_comma` (decided per file) settles them.
    """
    if _DIGITS.fullmatch(raw) or (not decimal_comma and _PLAIN.fullmatch(raw)):
        return Decimal(raw)
    if not decimal_comma and _DOT_DECIMAL.fullmatch(raw):
        return Decimal(raw.replace(",", ""))
    cleaned = _clean(raw)
    if cleaned is None:
        return Decimal(0)
    negative, text = cleaned
    dot = _DOT_DECIMAL.fullmatch(text) is not None
    comma = _COMMA_DECIMAL.fullmatch(text) is not None
    if comma and (decimal_comma or not dot):
        text = text.replace(".", "").replace(",", ".")
    elif dot:
        text = text.replace(",", "")
    else:
        raise ValueError(f"'{short(raw)}' is not a number")
    value = Decimal(text)
    return -value if negative else value


def short(raw: str) -> str:
    raw = raw.strip()
    return raw if len(raw) <= 40 else raw[:37] + "..."


# English first, then the month names of the other languages the platforms' UIs export in
# (de, fr, es, pt, it, nl); no name means two different months across them.
_MONTH_NAMES = (
    "jan january januar janv janvier enero ene janeiro gennaio gen januari",
    "feb february februar fév févr février fevrier febrero fevereiro fev febbraio februari",
    "mar march märz mär maerz mars marzo março marco maart mrt",
    "apr april avr avril abr abril aprile",
    "may mai mayo maio maggio mag mei",
    "jun june juni juin junio junho giugno giu",
    "jul july juli juil juillet julio julho luglio lug",
    "aug august août aout ago agosto augustus",
    "sep sept september septembre septiembre setiembre set setembro settembre",
    "oct october okt oktober octobre octubre out outubro ott ottobre",
    "nov november novembre noviembre novembro",
    "dec december dez dezember déc décembre dic diciembre dezembro dicembre",
)
_MONTHS = {name: n for n, names in enumerate(_MONTH_NAMES, start=1) for name in names.split()}
_TIME_PART = re.compile(r"(?:[ tT]|,\s*)\d{1,2}:\d{2}.*$")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\.?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CJK_DATE = re.compile(r"(\d{4})\s*[年.년]\s*(\d{1,2})\s*[月.월]\s*(\d{1,2})\s*[日.일]?")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_WORD = r"[^\W\d_]{3,10}"
_WEEKDAY = r"(?:[^\W\d_]+\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th|\.)?"
_MONTH_FIRST = re.compile(
    rf"{_WEEKDAY}({_WORD})\.?[\s-]+(\d{{1,2}}){_ORDINAL}(?:,\s*|[\s-]+)(\d{{4}})"
)
_DAY_FIRST = re.compile(
    rf"{_WEEKDAY}(\d{{1,2}}){_ORDINAL}[\s-]*(?:de\s+)?({_WORD})\.?[\s,-]+(?:de\s+)?(\d{{4}}|\d{{2}})"
)
_MONTH_ONLY = re.compile(rf"(\d{{4}})[-/](\d{{1,2}})|({_WORD})\.?,?\s+(\d{{4}})")
# "2026-03-01 - 2026-03-31", "2026/03/01~2026/03/31", "Mar 1, 2026 to Mar 31, 2026".
_RANGE = re.compile(r"(.+?)(?:\s+[-–—]\s+|\s*~\s*|\s+to\s+)(.+)", re.IGNORECASE)


def parse_date(raw: str, day_first: bool) -> date:
    """One report day. Raises ValueError with the reason (not a date, a month, a range)."""
    text = _TIME_PART.sub("", raw.strip().lower()).strip()
    try:
        value = _calendar_day(text, day_first)
    except ValueError:
        if _MONTH_ONLY.fullmatch(text) and (
            not text[:1].isalpha() or text.split()[0].rstrip(".,") in _MONTHS
        ):
            raise SpanError(f"'{short(raw)}' is a month, not a day") from None
        span = parse_range(raw, day_first)
        if span is not None:
            if span[0] == span[1]:
                return span[0]
            raise SpanError(
                f"'{short(raw)}' covers {span[0]:%d %b %Y} – {span[1]:%d %b %Y}, not one day"
            ) from None
        raise ValueError(f"'{short(raw)}' is not a date") from None
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"'{short(raw)}' is not a plausible report date")
    return value


def parse_range(raw: str, day_first: bool) -> tuple[date, date] | None:
    """(first, last) day of a date-range cell, None when the cell is not a range of dates."""
    found = _RANGE.fullmatch(raw.strip())
    if found is None:
        return None
    try:
        days = [
            _calendar_day(_TIME_PART.sub("", part.strip().lower()).strip(), day_first)
            for part in found.groups()
        ]
    except ValueError:
        return None
    return min(days), max(days)


def _calendar_day(text: str, day_first: bool) -> date:
    ymd = _ISO_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text) or _CJK_DATE.fullmatch(text)
    if found := ymd:
        year, month, day = (int(g) for g in found.groups())
    elif found := _NUMERIC_DATE.fullmatch(text):
        first, sep, second, year_text = found.groups()
        year = _year(year_text)
        if sep == "." or day_first:
            day, month = int(first), int(second)
        else:
            month, day = int(first), int(second)
    elif (found := _MONTH_FIRST.fullmatch(text)) and found.group(1) in _MONTHS:
        month, day, year = _MONTHS[found.group(1)], int(found.group(2)), int(found.group(3))
    elif (found := _DAY_FIRST.fullmatch(text)) and found.group(2) in _MONTHS:
        day, month, year = int(found.group(1)), _MONTHS[found.group(2)], _year(found.group(3))
    else:
        raise ValueError(text)
    return date(year, month, day)


def _year(text: str) -> int:
    return int(text) + (2000 if len(text) == 2 else 0)


# --- the written form of a date (see csv_dates) ------------------------------------------


def _bare(raw: str) -> str:
    return _TIME_PART.sub("", raw.strip().lower()).strip()


def numeric_parts(raw: str) -> tuple[int, int, int, str] | None:
    """(first, second, year, separator) of `5/11/2026` or `5-11-26`; None for other forms
    (dotted dates are always day first and need no order)."""
    found = _NUMERIC_DATE.fullmatch(_bare(raw))
    if found is None or found.group(2) == ".":
        return None
    first, sep, second, year = found.groups()
    return int(first), int(second), int(year) + (2000 if len(year) == 2 else 0), sep


def date_shape(raw: str) -> str | None:
    """How the cell writes a date, as a pattern ("yyyy-mm-dd", "n/n/yyyy", "Mon d, yyyy"…);
    None when it is no single date (a range, a month, a word)."""
    text = _bare(raw)
    if found := _ISO_DATE.fullmatch(text):
        sep = text[len(found.group(1))]
        return f"yyyy{sep}mm{sep}dd"
    if _COMPACT_DATE.fullmatch(text):
        return "yyyymmdd"
    if _CJK_DATE.fullmatch(text):
        return "yyyy年m月d日"
    if found := _NUMERIC_DATE.fullmatch(text):
        sep, year = found.group(2), found.group(4)
        part = "d.m." if sep == "." else f"n{sep}n{sep}"
        return part.replace(".", sep) + ("yyyy" if len(year) == 4 else "yy")
    if (found := _MONTH_FIRST.fullmatch(text)) and found.group(1) in _MONTHS:
        return "Mon d, yyyy"
    if (found := _DAY_FIRST.fullmatch(text)) and found.group(2) in _MONTHS:
        return "d Mon yyyy"
    return None


class SpanError(ValueError):
    """A date cell that is a period (a month, a date range), not one day."""


class Sniffer:
    """What a file's amounts say about its decimal separator, fed one value at a time:
    what the unambiguous amounts say, else a `;` file means a decimal comma. (How dates are
    written is `csv_dates`.)"""

    EVIDENCE = 1000  # amounts with a separator that decide the question beyond doubt

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.comma = self.dot = 0

    def amount(self, raw: str) -> None:
        if self.comma + self.dot >= self.EVIDENCE or ("," not in raw and "." not in raw):
            return
        try:
            cleaned = _clean(raw)
        except ValueError:
            return
        if cleaned is None:
            return
        is_dot = _DOT_DECIMAL.fullmatch(cleaned[1]) is not None
        is_comma = _COMMA_DECIMAL.fullmatch(cleaned[1]) is not None
        self.dot += is_dot and not is_comma
        self.comma += is_comma and not is_dot

    @property
    def decimal_comma(self) -> bool:
        if self.comma or self.dot:
            return self.comma > self.dot
        return self.delimiter == ";"


def sniff_decimal_comma(values: list[str], delimiter: str) -> bool:
    sniffer = Sniffer(delimiter)
    for raw in values:
        sniffer.amount(raw)
    return sniffer.decimal_comma
