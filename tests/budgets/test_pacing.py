"""Pacing states on constructed data: on track, under-pacing, over-pacing, overspent, missing
rate, projected overspend flagged before it happens; monthly plans add up exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from budgets import pacing

START, END = date(2026, 10, 1), date(2026, 12, 31)  # 92 days
TODAY = date(2026, 11, 15)  # day 46 of 92: exactly half the flight has elapsed


def lines(*specs) -> pd.DataFrame:
    rows = []
    for i, spec in enumerate(specs, start=1):
        planned, (ws, we) = (spec, (START, END)) if isinstance(spec, int) else spec
        rows.append(
            {
                "line_id": i, "budget_id": 1, "campaign_id": i, "channel": "meta_ads",
                "planned_minor": planned, "window_start": ws, "window_end": we,
                "budget_start": START, "budget_end": END, "under_pct": 85, "over_pct": 115,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def spend(
    campaign_id,
    total,
    days=46,
    kind="actual",
    source="ads",
    first=START,
    missing=False,
    in_flight=True,
):
    """`total` spread evenly over `days` days from `first`."""
    rows = []
    for i in range(days):
        amount = total // days + (1 if i < total % days else 0)
        rows.append(
            {
                "campaign_id": campaign_id, "channel": "meta_ads", "day": first + timedelta(i),
                "kind": kind, "source": source,
                "converted_minor": pd.NA if missing else amount, "fx_rate": None,
                "fx_rate_day": None, "currency": "EUR", "amount_minor": amount,
                "in_flight": in_flight,
            }
        )  # fmt: skip
    return rows


def actuals(*groups) -> pd.DataFrame:
    rows = [r for g in groups for r in g]
    frame = pd.DataFrame(rows, columns=[
        "campaign_id", "channel", "day", "kind", "source", "converted_minor", "fx_rate",
        "fx_rate_day", "currency", "amount_minor", "in_flight"])  # fmt: skip
    frame["converted_minor"] = frame["converted_minor"].astype("Int64")
    return frame


def paced(line_frame, actual_frame, today=TODAY):
    plan = pacing.monthly_plan(
        line_frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"])
    )
    return pacing.pace(line_frame, plan, actual_frame, today).set_index("line_id")


def test_each_state_from_constructed_spend():
    # Plan to date for 92,000.00 is 46,000.00 (half the days of each month elapsed in total).
    frame = lines(9_200_000, 9_200_000, 9_200_000, 9_200_000, 9_200_000)
    result = paced(
        frame,
        actuals(
            spend(1, 4_600_000),  # exactly on plan
            spend(2, 2_300_000),  # half the plan: under-pacing
            spend(3, 6_000_000),  # 130 %: over-pacing, heading for overspend
            spend(4, 9_300_000),  # more than the whole line: overspent
            spend(5, 1_000_000, missing=True),  # a foreign amount without a rate
        ),
    )
    assert result.loc[1, "plan_to_date_minor"] == pytest.approx(4_600_000, abs=3)
    assert dict(result["state"]) == {
        1: "on_track",
        2: "under_pacing",
        3: "over_pacing",
        4: "overspent",
        5: "missing_rate",
    }
    assert not result.loc[1, "projected_overspend"]
    assert result.loc[3, "projected_overspend"]  # flagged before it happens
    assert result.loc[3, "projected_minor"] > 9_200_000
    assert not result.loc[4, "projected_overspend"]  # already happened: it is overspent
    assert pd.isna(result.loc[5, "spent_minor"])


def test_commitments_count_before_they_are_paid():
    frame = lines(1_000_000)
    committed = spend(
        1, 700_000, days=1, kind="committed", source="influencers", first=date(2026, 12, 20)
    )  # due next month, not paid
    result = paced(frame, actuals(committed))
    assert result.loc[1, "committed_minor"] == 700_000
    assert result.loc[1, "spent_minor"] == 700_000
    assert result.loc[1, "state"] == "over_pacing"
    # lump sums are not run-rated: projection = what is committed
    assert result.loc[1, "projected_minor"] == 700_000


def test_thresholds_are_respected():
    frame = lines(9_200_000, 9_200_000)
    frame["under_pct"], frame["over_pct"] = 50, 300
    result = paced(frame, actuals(spend(1, 2_400_000), spend(2, 9_000_000)))
    assert list(result["state"]) == ["on_track", "on_track"]


def test_before_the_flight_nothing_is_due():
    frame = lines((1_000_000, (date(2026, 12, 1), END)))
    result = paced(frame, actuals(), today=date(2026, 11, 1))
    assert result.loc[1, "plan_to_date_minor"] == 0
    assert result.loc[1, "state"] == "on_track"


def test_monthly_plan_adds_up_and_follows_the_flight():
    frame = lines((100_001, (date(2026, 10, 20), date(2026, 11, 10))))
    plan = pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"]))
    assert plan["planned_minor"].sum() == 100_001
    by_month = dict(zip(plan["month"], plan["planned_minor"], strict=True))
    assert by_month[date(2026, 12, 1)] == 0
    assert by_month[date(2026, 10, 1)] > by_month[date(2026, 11, 1)]  # 12 days vs 10 days


def test_phases_override_the_even_split():
    frame = lines(900)
    phases = pd.DataFrame(
        {
            "line_id": [1, 1],
            "month": [date(2026, 10, 1), date(2026, 12, 1)],
            "planned_minor": [600, 300],
        }
    )
    plan = pacing.monthly_plan(frame, phases)
    assert list(plan["planned_minor"]) == [600, 0, 300]


def test_budget_vs_actual_rows_and_variance():
    frame = lines(9_000)
    acts = actuals(
        spend(1, 1_000, days=2),
        spend(1, 500, days=1, kind="committed", source="influencers", first=date(2026, 11, 3)),
    )
    plan = pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"]))
    rows = pacing.budget_vs_actual(frame, plan, acts)
    assert len(rows) == 3
    october = rows.iloc[0]
    assert october["actual_minor"] == 1_000 and october["committed_minor"] == 0
    assert october["variance_minor"] == october["planned_minor"] - 1_000
    assert rows["planned_minor"].sum() == 9_000
    assert rows["committed_minor"].sum() == 500
    assert isinstance(october["variance_pct"], Decimal)


def test_missing_rate_blanks_the_row_not_a_wrong_number():
    frame = lines(9_000)
    acts = actuals(
        spend(1, 1_000, days=2), spend(1, 77, days=1, missing=True, first=date(2026, 10, 5))
    )
    plan = pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"]))
    rows = pacing.budget_vs_actual(frame, plan, acts)
    assert pd.isna(rows.iloc[0]["actual_minor"]) and rows.iloc[0]["fx_missing"]
    assert pd.isna(rows.iloc[0]["variance_minor"])
    assert not rows.iloc[1]["fx_missing"]


def test_roll_up_sums_and_reclassifies():
    frame = lines(9_200_000, 9_200_000)
    result = pacing.pace(
        frame,
        pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"])),
        actuals(spend(1, 4_600_000), spend(2, 2_300_000)),
        TODAY,
    )
    budget = pacing.roll_up(result, ["budget_id"]).iloc[0]
    assert budget["planned_minor"] == 18_400_000
    assert budget["spent_minor"] == 6_900_000
    assert budget["state"] == "under_pacing"  # 75 % of plan to date


def test_spend_outside_the_flight_is_its_own_figure():
    # The flight is December; October's spend (an evergreen platform campaign) is outside it.
    frame = lines((9_300_000, (date(2026, 12, 1), END)))
    acts = actuals(
        spend(1, 7_410_500, days=31, in_flight=False),
        spend(1, 3_000, days=1, in_flight=False, first=date(2026, 11, 20)),  # after today
    )
    result = paced(frame, acts)
    assert result.loc[1, "actual_minor"] == 0 and result.loc[1, "spent_minor"] == 0
    assert result.loc[1, "outside_minor"] == 7_410_500  # to date: not the 20 November day
    assert result.loc[1, "state"] == "on_track"  # nothing due before the flight, nothing spent
    plan = pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"]))
    rows = pacing.budget_vs_actual(frame, plan, acts).set_index("month")
    assert rows.loc[date(2026, 10, 1), "outside_minor"] == 7_410_500
    assert rows.loc[date(2026, 11, 1), "outside_minor"] == 3_000
    assert rows["actual_minor"].sum() == 0
    assert rows.loc[date(2026, 12, 1), "variance_minor"] == 9_300_000


def test_a_missing_rate_outside_the_flight_leaves_the_line_alone():
    frame = lines(9_200_000)
    acts = actuals(spend(1, 4_600_000), spend(1, 500, days=1, missing=True, in_flight=False))
    result = paced(frame, acts)
    assert result.loc[1, "state"] == "on_track" and result.loc[1, "actual_minor"] == 4_600_000
    assert pd.isna(result.loc[1, "outside_minor"])


def test_a_roll_up_with_a_missing_rate_is_missing_not_the_known_part():
    frame = lines(9_200_000, 9_200_000)
    result = pacing.pace(
        frame,
        pacing.monthly_plan(frame, pd.DataFrame(columns=["line_id", "month", "planned_minor"])),
        actuals(spend(1, 4_600_000), spend(2, 2_300_000, missing=True)),
        TODAY,
    )
    budget = pacing.roll_up(result, ["budget_id"]).iloc[0]
    assert pd.isna(budget["spent_minor"]) and pd.isna(budget["actual_minor"])
    assert budget["planned_minor"] == 18_400_000 and budget["state"] == "missing_rate"
