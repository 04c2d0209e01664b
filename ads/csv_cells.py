"""Cells of the platforms' CSV exports: numbers, money and dates as the exports write them.

Amounts come as `1,234.56`, `1.234,56 €`, `$12.00`, `(12.00)`, `--`; dates as `2026-03-01`,
`3/1/2026`, `Sun, Mar 1, 2026`, `01.03.2026`. Ambiguous numbers and slash dates are settled per
file by the sniffers at the end.
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
_DOT_DECIMAL = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")  # 1,234.56
_COMMA_DECIMAL = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")  # 1.234,56


def _clean(raw: str) -> tuple[bool, str] | None:
    """(negative, digits and separators), None for an empty cell ("--", "-", blank).

    Raises ValueError when anything but a currency sign or code, a sign or "%" is around.
    """
    text = raw.strip()
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
        letters = found.group(affix).strip(_SIGNS + ".")
        currency_code = letters.upper() in known_currencies()
        if letters and not currency_code and letters.lower() not in _LOCAL_SYMBOLS:
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


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME_PART = re.compile(r"[ tT]\d{1,2}:\d{2}.*$")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_WEEKDAY = r"(?:[a-z]+\.?,?\s+)?"
_MONTH_FIRST = re.compile(_WEEKDAY + r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DAY_FIRST = re.compile(_WEEKDAY + r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]{3,9})\.?[\s,-]+(\d{4})")


def parse_date(raw: str, day_first: bool) -> date:
    text = _TIME_PART.sub("", raw.strip().lower()).strip()
    try:
        if found := _ISO_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text):
            year, month, day = (int(g) for g in found.groups())
        elif found := _NUMERIC_DATE.fullmatch(text):
            first, sep, second, year_text = found.groups()
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            if sep == "." or day_first:
                day, month = int(first), int(second)
            else:
                month, day = int(first), int(second)
        elif (found := _MONTH_FIRST.fullmatch(text)) and found.group(1) in _MONTHS:
            month, day, year = _MONTHS[found.group(1)], int(found.group(2)), int(found.group(3))
        elif (found := _DAY_FIRST.fullmatch(text)) and found.group(2) in _MONTHS:
            day, month, year = int(found.group(1)), _MONTHS[found.group(2)], int(found.group(3))
        else:
            raise ValueError
        value = date(year, month, day)
    except ValueError:
        raise ValueError(f"'{short(raw)}' is not a date") from None
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"'{short(raw)}' is not a plausible report date")
    return value


def sniff_day_first(values: list[str]) -> bool:
    """Slash dates are M/D/YYYY (US exports) unless a value only makes sense as D/M/YYYY."""
    month_first = day_first = False
    for raw in values:
        found = _NUMERIC_DATE.fullmatch(_TIME_PART.sub("", raw.strip()).strip())
        if found and found.group(2) != ".":
            first, second = int(found.group(1)), int(found.group(3))
            day_first |= first > 12
            month_first |= second > 12
    return day_first and not month_first


def sniff_decimal_comma(values: list[str], delimiter: str) -> bool:
    """Whether amounts use a decimal comma: what the unambiguous amounts say, else `;` means yes."""
    comma = dot = 0
    for raw in values:
        if "," not in raw and "." not in raw:
            continue
        try:
            cleaned = _clean(raw)
        except ValueError:
            continue
        if cleaned is None:
            continue
        is_dot = _DOT_DECIMAL.fullmatch(cleaned[1]) is not None
        is_comma = _COMMA_DECIMAL.fullmatch(cleaned[1]) is not None
        dot += is_dot and not is_comma
        comma += is_comma and not is_dot
        if comma + dot >= 1000:  # plenty of evidence
            break
    if comma or dot:
        return comma > dot
    return delimiter == ";"
