"""Money: exact minor units per ISO 4217, no floats, no mixed currencies; ScaledDecimal."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from babel.numbers import get_currency_precision
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select

from core.extensions import db
from core.money import Money, MoneyError, exponent
from core.types import ScaledDecimal

HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# --- exactness per currency --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "shown"),
    [
        ("1234.50", "EUR", 123450, Decimal("1234.50")),
        ("0.01", "EUR", 1, Decimal("0.01")),
        ("1,234.5", "EUR", 123450, Decimal("1234.50")),
        ("-19.99", "EUR", -1999, Decimal("-19.99")),
        ("1234", "JPY", 1234, Decimal("1234")),
        ("1.234", "BHD", 1234, Decimal("1.234")),
        ("0.001", "BHD", 1, Decimal("0.001")),
        ("7", "bhd", 7000, Decimal("7.000")),
        (Decimal("0.10"), "USD", 10, Decimal("0.10")),
        (5, "JPY", 5, Decimal("5")),
    ],
)
def test_money_of_is_exact(amount, currency, minor, shown):
    money = Money.of(amount, currency)
    assert money.minor == minor
    assert money.currency == currency.upper()
    assert money.amount == shown
    assert str(money.amount) == str(shown)  # the currency's precision, no more, no less


def test_precision_comes_from_iso_4217():
    assert (exponent("EUR"), exponent("JPY"), exponent("BHD")) == (2, 0, 3)
    for code in ("EUR", "USD", "GBP", "JPY", "BHD", "KWD", "CHF", "ISK"):
        assert exponent(code) == get_currency_precision(code)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("1.005", "EUR", "EUR has 2 decimal places"),
        ("0.5", "JPY", "JPY has 0 decimal places"),
        ("1.2345", "BHD", "BHD has 3 decimal places"),
        ("0.001", "USD", "USD has 2 decimal places"),
    ],
)
def test_too_many_decimals_are_refused(amount, currency, message):
    with pytest.raises(MoneyError, match=message):
        Money.of(amount, currency)


def test_non_strict_rounds_half_even():
    assert Money.of("0.125", "EUR", strict=False).minor == 12
    assert Money.of("0.135", "EUR", strict=False).minor == 14
    assert Money.of("2.5", "JPY", strict=False).minor == 2


@pytest.mark.parametrize("amount", [1.5, 0.1, float("nan"), True])
def test_floats_and_booleans_are_refused(amount):
    with pytest.raises(MoneyError):
        Money.of(amount, "EUR")


@pytest.mark.parametrize(
    "amount",
    [
        "abc",
        "",
        "NaN",
        "Infinity",
        "1,50",  # a decimal comma must not become 150
        "12,34.5",
        "1,2,3",
        "1e999999",  # would overflow Decimal scaling
        "1000000000000000",  # beyond what a BIGINT of minor units holds for every currency
    ],
)
def test_bad_text_is_refused_with_money_error(amount):
    with pytest.raises(MoneyError):
        Money.of(amount, "EUR")


@pytest.mark.parametrize("code", ["XYZ", "EURO", "", "E", "€", None])
def test_unknown_currency_is_refused(code):
    with pytest.raises(MoneyError, match="not an ISO 4217 currency code"):
        Money.of("1", code)
    with pytest.raises(MoneyError):
        Money(100, code)


def test_minor_units_must_be_an_integer():
    for bad in (1.0, Decimal("1"), "100", True):
        with pytest.raises(MoneyError):
            Money(bad, "EUR")


# --- arithmetic --------------------------------------------------------------------------------


def test_same_currency_arithmetic():
    a, b = Money.of("10.10", "EUR"), Money.of("0.20", "EUR")
    assert a + b == Money.of("10.30", "EUR")
    assert a - b == Money.of("9.90", "EUR")
    assert -a == Money.of("-10.10", "EUR")
    assert b < a and b <= a and not a < b
    assert (b - a).is_negative()
    # Decimal exactness where floats drift: 0.1 + 0.2 == 0.3.
    assert Money.of("0.10", "USD") + Money.of("0.20", "USD") == Money.of("0.30", "USD")


def test_no_cross_currency_arithmetic():
    eur, usd = Money.of("1", "EUR"), Money.of("1", "USD")
    with pytest.raises(MoneyError, match="cannot combine EUR with USD"):
        eur + usd
    with pytest.raises(MoneyError):
        eur - usd
    with pytest.raises(MoneyError):
        eur < usd  # noqa: B015
    with pytest.raises(MoneyError):
        eur <= usd  # noqa: B015
    assert eur != usd
    assert Money.zero("EUR") != Money.zero("JPY")


def test_money_does_not_mix_with_plain_numbers():
    eur = Money.of("1", "EUR")
    with pytest.raises(TypeError):
        eur + 1
    with pytest.raises(TypeError):
        eur + Decimal("1")


# --- formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("1234.50", "EUR", "€1,234.50"),
        ("1234.5", "EUR", "€1,234.50"),
        ("0", "EUR", "€0.00"),
        ("-5", "EUR", "-€5.00"),
        ("1234", "GBP", "£1,234.00"),
        ("1234567", "JPY", "JP¥1,234,567"),
        ("1.234", "BHD", "BHD1.234"),
    ],
)
def test_formatting(amount, currency, text):
    money = Money.of(amount, currency)
    assert money.format() == text
    assert str(money) == text


def test_jpy_has_no_decimals_when_shown():
    assert "." not in Money.of("1234", "JPY").format()


# --- property: text -> Money -> amount round-trips -----------------------------------------------


@st.composite
def amounts(draw) -> tuple[Decimal, str]:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "BHD", "KWD", "ISK", "CHF"]))
    digits = get_currency_precision(currency)
    minor = draw(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
    return Decimal(minor).scaleb(-digits), currency


@HYPOTHESIS
@given(amounts())
def test_text_round_trips_exactly(value_currency):
    value, currency = value_currency
    money = Money.of(str(value), currency)
    assert money.amount == value
    assert money.amount.as_tuple().exponent == -get_currency_precision(currency)
    assert Money.of(money.amount, currency) == money
    assert Money(money.minor, currency).amount == money.amount


# --- ScaledDecimal through the database ---------------------------------------------------------

_probe_metadata = MetaData()
probe = Table(
    "scaled_decimal_probe",
    _probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("value", ScaledDecimal(4)),
)


@pytest.fixture
def probe_table(app) -> Iterator[Table]:
    _probe_metadata.create_all(db.engine)
    yield probe
    db.session.rollback()
    _probe_metadata.drop_all(db.engine)


def _round_trip(values: list[Decimal | None]) -> list[Decimal | None]:
    db.session.execute(probe.delete())
    db.session.execute(insert(probe), [{"id": i, "value": v} for i, v in enumerate(values)])
    db.session.commit()
    return list(db.session.scalars(select(probe.c.value).order_by(probe.c.id)))


def test_scaled_decimal_round_trips_exactly(probe_table):
    values = [
        Decimal("0"),
        Decimal("0.0001"),
        Decimal("-0.0001"),
        Decimal("3.5"),
        Decimal("2.3333"),
        Decimal("123456789.1234"),
        Decimal("-922337203685477.5807"),
        Decimal("922337203685477.5807"),  # the BIGINT limit at scale 4
        None,
    ]
    back = _round_trip(values)
    assert back == values
    for before, after in zip(values, back, strict=True):
        if before is not None:
            assert isinstance(after, Decimal)
            assert after.as_tuple().exponent == -4


def test_scaled_decimal_sums_exactly_in_sql(probe_table):
    _round_trip([Decimal("0.1")] * 10 + [Decimal("0.2")] * 10)
    total = db.session.scalar(select(func.sum(probe.c.value)))
    assert total == Decimal("3.0000")


@HYPOTHESIS
@given(
    st.lists(
        st.decimals(
            min_value=Decimal("-922337203685477.5807"),
            max_value=Decimal("922337203685477.5807"),
            places=4,
            allow_nan=False,
            allow_infinity=False,
        ),
        min_size=1,
        max_size=20,
    )
)
def test_scaled_decimal_round_trip_property(probe_table, values):
    assert _round_trip(values) == values
