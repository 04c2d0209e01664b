"""The ROI engine against a plain Decimal reference: ratios of sums, per currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import goals as goal_math
from analytics.roi import kpis, summarise

FOUR = Decimal("0.0001")

fact = st.fixed_dictionaries(
    {
        "campaign_id": st.sampled_from([1, 2]),
        "currency": st.sampled_from(["EUR", "JPY", "BHD"]),
        "spend_minor": st.integers(0, 10**9),
        "impressions": st.integers(0, 10**7),
        "clicks": st.integers(0, 10**5),
        "conversions": st.integers(0, 10**4),
        "revenue_minor": st.integers(0, 10**10),
    }
)


def reference(rows: list[dict], currency: str, campaign_id: int) -> dict:
    picked = [r for r in rows if r["currency"] == currency and r["campaign_id"] == campaign_id]
    digits = {"EUR": 2, "JPY": 0, "BHD": 3}[currency]
    spend = sum(Decimal(r["spend_minor"]) for r in picked) / Decimal(10) ** digits
    revenue = sum(Decimal(r["revenue_minor"]) for r in picked) / Decimal(10) ** digits
    conv = sum(r["conversions"] for r in picked)
    clicks = sum(r["clicks"] for r in picked)
    imps = sum(r["impressions"] for r in picked)

    def q(n: Decimal, d: Decimal) -> Decimal | None:
        return None if d == 0 else (n / d).quantize(FOUR, rounding=ROUND_HALF_EVEN)

    return {
        "roas": q(revenue, spend),
        "roi": q(revenue - spend, spend),
        "cpa": q(spend, Decimal(conv)),
        "cpc": q(spend, Decimal(clicks)),
        "cpm": q(spend * 1000, Decimal(imps)),
        "ctr": q(Decimal(clicks) * 100, Decimal(imps)),
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(fact, min_size=1, max_size=40))
def test_ratios_are_ratios_of_sums_per_currency(rows):
    frame = pd.DataFrame(rows)
    out = summarise(frame, by=["campaign_id"])
    for row in out.to_dict("records"):
        expected = reference(rows, row["currency"], row["campaign_id"])
        for name, value in expected.items():
            assert row[name] == value, (name, row, expected)
    # Sums never cross currencies: one output row per (campaign, currency) present.
    assert len(out) == len({(r["campaign_id"], r["currency"]) for r in rows})


def test_ratio_of_sums_is_not_mean_of_daily_ratios():
    frame = pd.DataFrame(
        [
            {
                "currency": "EUR",
                "spend_minor": 10000,
                "impressions": 1,
                "clicks": 1,
                "conversions": 1,
                "revenue_minor": 50000,
            },
            {
                "currency": "EUR",
                "spend_minor": 90000,
                "impressions": 1,
                "clicks": 1,
                "conversions": 1,
                "revenue_minor": 90000,
            },
        ]
    )
    (tile,) = kpis(frame)
    # mean of daily ROAS would be (5 + 1) / 2 = 3; the true ROAS is 1400 / 1000 = 1.4
    assert tile.roas == Decimal("1.4000")
    assert tile.cpa == Decimal("500.0000")
    assert tile.spend.format() == "€1,000.00"


def test_empty_facts_give_no_tiles():
    assert (
        kpis(
            pd.DataFrame(
                columns=[
                    "currency",
                    "spend_minor",
                    "impressions",
                    "clicks",
                    "conversions",
                    "revenue_minor",
                ]
            )
        )
        == []
    )


def _daily(days: int, spend_minor: int, conversions: int, start: date) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "day": start + timedelta(d),
                "currency": "EUR",
                "spend_minor": spend_minor,
                "impressions": 1000,
                "clicks": 10,
                "conversions": conversions,
                "revenue_minor": spend_minor * 3,
            }
            for d in range(days)
        ]
    )


def test_goal_progress_forecasts_to_the_deadline():
    start = date(2026, 3, 1)
    deadline = date(2026, 3, 30)
    facts = _daily(10, 10000, 5, start)  # 10 days of 100.00 EUR and 5 conversions
    current = goal_math.metric_value(facts, "conversions", "EUR")
    assert current == Decimal(50)
    on_track = goal_math.progress(
        metric="conversions",
        direction="at_least",
        target=Decimal(140),
        start=start,
        deadline=deadline,
        today=date(2026, 3, 10),
        current=current,
        data_through=date(2026, 3, 10),
    )
    assert on_track.forecast == Decimal("150.0000") and on_track.status == "on_track"
    at_risk = goal_math.progress(
        metric="conversions",
        direction="at_least",
        target=Decimal(200),
        start=start,
        deadline=deadline,
        today=date(2026, 3, 10),
        current=current,
        data_through=date(2026, 3, 10),
    )
    assert at_risk.status == "at_risk"
    achieved = goal_math.progress(
        metric="conversions",
        direction="at_least",
        target=Decimal(40),
        start=start,
        deadline=deadline,
        today=date(2026, 3, 10),
        current=current,
        data_through=date(2026, 3, 10),
    )
    assert achieved.status == "achieved"
    roas = goal_math.metric_value(facts, "roas", "EUR")
    assert roas == Decimal("3.0000")
    missed = goal_math.progress(
        metric="roas",
        direction="at_least",
        target=Decimal(4),
        start=start,
        deadline=deadline,
        today=date(2026, 4, 2),
        current=roas,
        data_through=date(2026, 3, 10),
    )
    assert missed.status == "missed"
    over_budget = goal_math.progress(
        metric="spend",
        direction="at_most",
        target=Decimal(900),
        start=start,
        deadline=deadline,
        today=date(2026, 3, 10),
        current=goal_math.metric_value(facts, "spend", "EUR"),
        data_through=date(2026, 3, 10),
    )
    assert over_budget.status == "missed"  # 1,000 spent already exceeds 900
    assert goal_math.metric_value(facts, "spend", "USD") is None  # never mixes currencies
