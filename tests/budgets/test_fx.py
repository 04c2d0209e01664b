"""FX: conversion at the rate of the day or the nearest earlier one, the rate used is reported,
a missing rate is a state (never a wrong number), import is all or nothing, closed periods
lock their rates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from budgets import api, fx
from budgets.models import FxRate
from core.extensions import db
from core.money import Money
from tests.budgets.factories import BudgetFactory, fx_rate

D1, D2, D3 = date(2026, 11, 2), date(2026, 11, 5), date(2026, 11, 9)


@pytest.fixture
def rates():
    fx_rate(D1, "USD", "EUR", "0.9200")
    fx_rate(D2, "USD", "EUR", "0.9300")
    fx_rate(D2, "EUR", "JPY", "160.5")


def test_rate_of_the_day_or_nearest_earlier(rates):
    assert fx.convert(Money(10_000, "USD"), "EUR", D1).money == Money(9_200, "EUR")
    later = fx.convert(Money(10_000, "USD"), "EUR", D3)
    assert later.money == Money(9_300, "EUR")
    assert (later.rate, later.rate_day, later.inverted) == (Decimal("0.9300000000"), D2, False)
    assert later.rate_id is not None


def test_missing_rate_is_a_state_not_a_number(rates):
    before = fx.convert(Money(10_000, "USD"), "EUR", D1 - timedelta(days=1))
    assert before.missing and before.money is None
    assert fx.convert(Money(1, "GBP"), "EUR", D3).missing
    assert api.convert(Money(1, "GBP"), "EUR", D3) is None


def test_inverse_pair_and_currency_precision(rates):
    yen = fx.convert(Money(16_050, "JPY"), "EUR", D3)  # 16,050 JPY / 160.5 = 100.00 EUR
    assert yen.money == Money(10_000, "EUR") and yen.inverted
    assert yen.rate == (1 / Decimal("160.5")).quantize(Decimal("1e-10"))
    assert fx.convert(Money(123, "EUR"), "JPY", D3).money == Money(197, "JPY")  # 197.415 → 197


def test_half_even_rounding_once():
    fx_rate(D1, "USD", "EUR", "0.5")
    assert fx.convert(Money(1, "USD"), "EUR", D1).money == Money(0, "EUR")  # 0.005 → 0.00
    assert fx.convert(Money(3, "USD"), "EUR", D1).money == Money(2, "EUR")  # 0.015 → 0.02


def test_same_currency_needs_no_rate():
    assert api.convert(Money(5, "EUR"), "EUR", D1) == Money(5, "EUR")


def test_convert_frame_matches_row_by_row(rates):
    amounts = pd.DataFrame(
        {
            "day": [D1, D3, D1 - timedelta(days=3), D2],
            "currency": ["USD", "USD", "USD", "EUR"],
            "amount_minor": [10_000, 333, 100, 7],
        }
    )
    out = fx.convert_frame(amounts, fx.rates_frame({"USD", "EUR", "JPY"}, D3), "EUR")
    assert list(
        out["converted_minor"].astype("object").where(out["converted_minor"].notna(), None)
    ) == [9_200, 310, None, 7]
    assert list(out["fx_missing"]) == [False, False, True, False]
    assert out.loc[1, "fx_rate"] == Decimal("0.9300000000") and out.loc[1, "fx_rate_day"] == D2
    assert out.loc[3, "fx_rate"] is None


def test_rate_validation():
    for bad, message in [
        ("0", "above 0"),
        ("-1", "above 0"),
        ("abc", "not a number"),
        ("1.12345678901", "10 decimal places"),
    ]:
        with pytest.raises(fx.FxError, match=message):
            fx.set_rate(None, D1, "USD", "EUR", bad)
    with pytest.raises(fx.FxError, match="two different"):
        fx.set_rate(None, D1, "EUR", "EUR", "1")
    with pytest.raises(fx.FxError, match="ISO 4217"):
        fx.set_rate(None, D1, "XXY", "EUR", "1")


def test_set_rate_replaces_the_days_rate_and_is_audited():
    fx.set_rate(None, D1, "usd", "eur", "0.9")
    fx.set_rate(None, D1, "USD", "EUR", "0.91", comment="ECB correction")
    stored = db.session.scalars(select(FxRate)).all()
    assert len(stored) == 1 and stored[0].rate == Decimal("0.91")
    from core.audit import history_for

    assert history_for(stored[0])[0].comment == "ECB correction"


def test_import_all_or_nothing():
    good = b"date,from,to,rate,source\n2026-11-02,USD,EUR,0.92,ECB\n2026-11-03,USD,EUR,0.93,\n"
    result = fx.import_rates(None, good, "rates.csv")
    assert result.saved == 2 and not result.errors
    assert db.session.scalar(select(FxRate.source).where(FxRate.day == D1)) == "ECB"
    bad = (
        b"date,from,to,rate\n2026-11-04,USD,EUR,0.94\n2026-13-01,USD,EUR,1\n"
        b"2026-11-05,USD,EUR,zero\n2026-11-06,USD,USD,1\n"
    )
    result = fx.import_rates(None, bad, "bad.csv")
    assert result.saved == 0
    assert [(row, column) for row, column, _ in result.errors] == [
        (3, "date"),
        (4, "rate"),
        (5, "to"),
    ]
    assert db.session.scalar(select(func.count(FxRate.id))) == 2  # nothing of the file saved
    assert fx.import_rates(None, b"when,rate\n", "x.csv").errors[0][1] == "header"
    assert fx.import_rates(None, b"\xff\xfe", "x.csv").errors[0][1] == "file"
    assert fx.import_rates(None, b"date,from,to,rate\n2026-11-07,USD,EUR,1\x00\n", "x.csv").errors
    huge = b"date,from,to,rate,source\n2026-11-07,USD,EUR,1," + b"x" * 200_000 + b"\n"
    assert fx.import_rates(None, huge, "x.csv").errors[0][1] == "file"
    assert db.session.scalar(select(func.count(FxRate.id))) == 2


def test_closing_a_period_locks_its_rates(users):
    budget = BudgetFactory(
        owner=users["finance"],
        status="closed",
        start_date=D1,
        end_date=D2,
        period="2026-11-02..2026-11-05",
        period_kind="custom",
    )
    rate = fx_rate(D1, "USD", "EUR", "0.9")
    assert fx.is_locked(D1) and not fx.is_locked(D3)
    with pytest.raises(fx.FxError, match="closed period"):
        fx.set_rate(None, D2, "USD", "EUR", "1")
    with pytest.raises(fx.FxError, match="closed period"):
        fx.delete_rate(rate)
    result = fx.import_rates(None, b"date,from,to,rate\n2026-11-03,USD,EUR,1\n", "x.csv")
    assert result.errors and "locked" in result.errors[0][2]
    assert budget.is_closed
