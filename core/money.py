"""Money: integer minor units + ISO 4217 code in storage, Decimal at the edges.

The database keeps `<name>_minor` (BIGINT) beside a `currency` (CHAR 3) column; models
expose a `Money` through `money_property`. Arithmetic never mixes currencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

DEFAULT_LOCALE = "en_GB"
# Amounts up to (not including) 10**15 major units: minor units of every currency (up to 3
# decimals) then fit a signed BIGINT, and Decimal never overflows while scaling.
MAX_MAJOR_DIGITS = 15
# A comma is only a thousands separator: "1,234.50" is read, "1,50" (a decimal comma) is refused
# rather than read as 150.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


class MoneyError(ValueError):
    """Bad money input: unknown currency, too many decimals, mixed currencies."""


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or code not in known_currencies():
        raise MoneyError(f"{code or 'blank'} is not an ISO 4217 currency code")
    return code


@cache
def exponent(currency: str) -> int:
    """Minor-unit digits of a currency: JPY 0, EUR 2, BHD 3."""
    return get_currency_precision(check_currency(currency))


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """Parse user or API text into a Decimal; accepts '1,234.50' and ' 12 '."""
    if isinstance(text, bool):
        raise MoneyError("True/False is not an amount")
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, float):
        raise MoneyError("floats are not accepted for money")
    else:
        cleaned = str(text).strip().replace("_", "")
        if "," in cleaned:
            if not _GROUPED.fullmatch(cleaned):
                raise MoneyError(f"{text!r} is not a number (use . for decimals)")
            cleaned = cleaned.replace(",", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a finite number")
    if value and value.adjusted() >= MAX_MAJOR_DIGITS:
        raise MoneyError(f"{text!r} is too large for an amount of money")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, held as integer minor units."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("minor units must be an integer")
        object.__setattr__(self, "currency", check_currency(self.currency))

    # construction -------------------------------------------------------
    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str, *, strict: bool = True) -> Money:
        """Money from major units. `strict` refuses more decimals than the currency has."""
        value = parse_decimal(amount)
        digits = exponent(currency)
        scaled = value.scaleb(digits)
        rounded = scaled.to_integral_value(rounding=ROUND_HALF_EVEN)
        if strict and rounded != scaled:
            raise MoneyError(
                f"{currency.upper()} has {digits} decimal place{'s' if digits != 1 else ''}"
            )
        return cls(int(rounded), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    # edges -------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        """Major units as an exact Decimal with the currency's precision."""
        digits = exponent(self.currency)
        return Decimal(self.minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))

    def format(self, locale: str = DEFAULT_LOCALE) -> str:
        return format_currency(self.amount, self.currency, locale=Locale.parse(locale))

    def __str__(self) -> str:
        return self.format()

    # arithmetic --------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def is_negative(self) -> bool:
        return self.minor < 0


def money_property(minor_attr: str, currency_attr: str = "currency") -> property:
    """Expose two columns (minor units + currency) as one `Money` attribute."""

    def getter(obj) -> Money | None:
        minor = getattr(obj, minor_attr)
        currency = getattr(obj, currency_attr)
        if minor is None or not currency:
            return None
        return Money(int(minor), currency)

    def setter(obj, value: Money | None) -> None:
        if value is None:
            setattr(obj, minor_attr, None)
            return
        setattr(obj, currency_attr, value.currency)
        setattr(obj, minor_attr, value.minor)

    return property(getter, setter)


COMMON_CURRENCIES = (
    "EUR",
    "USD",
    "GBP",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CAD",
    "AUD",
    "BHD",
)
