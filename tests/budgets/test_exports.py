"""Budget-vs-actual exports read back with pandas and openpyxl: no formula cells, injection
neutralised, typed numbers, frozen header, totals equal to the database to the cent; the CLI."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from ads.models import SpendFact
from budgets import exports
from budgets.actuals import build_report
from budgets.models import AllocationLine
from core.extensions import db
from influencers.api import InfluencerCost
from tests.budgets.factories import (
    BudgetFactory,
    CampaignFactory,
    LineFactory,
    fx_rate,
    spend,
)

EVIL = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]
AS_OF = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(users, monkeypatch):
    """A EUR budget with approved lines, EUR and USD spend, FX rates and influencer costs."""
    budget = BudgetFactory(owner=users["finance"], name=EVIL[0], total_minor=50_000_000)
    start = budget.start_date
    campaigns = []
    for i, name in enumerate(EVIL[1:]):
        campaign = CampaignFactory(
            owner=users["marketer"],
            name=name,
            start_date=start,
            end_date=budget.end_date,
            planned_budget_minor=5_000_000,
        )
        campaigns.append(campaign)
        LineFactory(
            budget=budget,
            campaign=campaign,
            channel="meta_ads",
            status="approved",
            planned_minor=1_000_001 + i,
            requested_by=users["marketer"],
        )
        LineFactory(
            budget=budget,
            campaign=campaign,
            channel="influencers",
            status="approved",
            planned_minor=333_333,
            requested_by=users["marketer"],
        )
    LineFactory(
        budget=budget,
        campaign=campaigns[0],
        channel="other",
        status="submitted",
        planned_minor=7,
        requested_by=users["marketer"],
    )  # not the plan: not exported
    campaigns[0].channels = ["meta_ads", "influencers", "other"]
    spend(campaigns[0], {start + timedelta(days=d): 12_345 for d in range(5)})
    spend(campaigns[1], {start: 10_001, start + timedelta(days=40): 999}, currency="USD")
    fx_rate(start, "USD", "EUR", "0.9")
    costs = [
        InfluencerCost(campaigns[2].id, 1, "EUR", 50_000, "paid", start + timedelta(days=3)),
        InfluencerCost(campaigns[2].id, 1, "EUR", 70_000, "committed", start + timedelta(days=50)),
        InfluencerCost(campaigns[3].id, 2, "EUR", 1_111, "payable", start + timedelta(days=10)),
    ]
    monkeypatch.setattr(
        "influencers.api.influencer_costs",
        lambda ids=None: [c for c in costs if ids is None or c.campaign_id in set(ids)],
    )
    db.session.commit()
    return budget


def frame_for(budget):
    report = build_report([budget], date.today())
    return report, exports.export_frame(report, AS_OF)


def expected_totals(budget) -> dict[str, Decimal]:
    planned = db.session.scalar(
        select(func.sum(AllocationLine.planned_minor)).where(
            AllocationLine.budget_id == budget.id, AllocationLine.status == "approved"
        )
    )
    eur = db.session.scalar(
        select(func.sum(SpendFact.spend_minor)).where(SpendFact.currency == "EUR")
    )
    usd = [
        Decimal(v) * Decimal("0.9")
        for v in db.session.scalars(
            select(SpendFact.spend_minor).where(SpendFact.currency == "USD")
        )
    ]
    usd_eur = sum(int(v.to_integral_value()) for v in usd)  # 9000.9 → 9001, 899.1 → 899
    actual = eur + usd_eur + 50_000
    committed = 70_000 + 1_111
    cents = lambda m: Decimal(m).scaleb(-2)  # noqa: E731
    return {
        "planned": cents(planned),
        "actual": cents(actual),
        "committed": cents(committed),
        "variance": cents(planned - actual - committed),
    }


def test_csv_round_trip(world):
    report, frame = frame_for(world)
    text = "".join(exports.iter_csv(frame))
    data = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(data.columns) == list(exports.HEADER)
    body, total = data[~data["budget"].str.startswith("TOTAL")], data[data["budget"] == "TOTAL EUR"]
    assert len(body) == 10 * 3  # 10 approved lines × 3 months; the submitted line is no plan
    assert len(total) == 1
    for column, value in expected_totals(world).items():
        assert sum(Decimal(v) for v in body[column]) == value, column
        assert Decimal(total.iloc[0][column]) == value, column
    # Text that a spreadsheet would evaluate is neutralised with a leading quote.
    assert set(body["budget"]) == {"'" + EVIL[0]}
    assert {c[0] for c in body["campaign"]} == {"'"}
    assert {"'\tTabbed", "'\rReturn", "'+1+1", "'-2+3", "'@SUM(A1)"} <= set(body["campaign"])
    # Negative numbers stay numbers (no quote), FX used and the as-of time are there.
    assert all(v.lstrip("-").replace(".", "").isdigit() for v in body["variance"])
    usd_rows = body[body["fx_rate"] != ""]
    assert set(usd_rows["fx_rate"]) == {"0.9000000000"}
    assert set(body["as_of"]) == {"2026-11-23T12:00:00Z"}


def test_xlsx_round_trip(world, tmp_path):
    report, frame = frame_for(world)
    path = tmp_path / "bva.xlsx"
    exports.write_xlsx(str(path), frame, report)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Budget vs actual",
        "By budget and campaign",
        "By budget and channel",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    sheet = book["Budget vs actual"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    body, totals = rows[:-1], rows[-1]
    assert totals[header.index("budget")] == "TOTAL EUR"
    for column, value in expected_totals(world).items():
        i = header.index(column)
        assert all(isinstance(r[i], int | float) for r in body), column  # typed numbers
        assert sum(Decimal(str(r[i])) for r in body) == value, column
        assert Decimal(str(totals[i])) == value, column
    money_cell = sheet.cell(row=2, column=header.index("planned") + 1)
    assert money_cell.data_type == "n" and money_cell.number_format == "#,##0.00"
    # pandas reads the same numbers back
    data = pd.read_excel(path, sheet_name=None)
    assert set(data) == {"Budget vs actual", "By budget and campaign", "By budget and channel"}
    for view in ("By budget and campaign", "By budget and channel"):
        total = data[view][data[view]["budget"] == "TOTAL EUR"]
        assert Decimal(str(total["actual"].iloc[0])) == expected_totals(world)["actual"], view
    channel_totals = data["By budget and channel"]
    assert channel_totals[channel_totals["budget"] == "TOTAL EUR"]["planned"].iloc[0] == float(
        expected_totals(world)["planned"]
    )


def test_missing_rate_blanks_actual_and_totals(world):
    from budgets.models import FxRate

    db.session.execute(FxRate.__table__.delete())
    db.session.commit()
    _, frame = frame_for(world)
    text = "".join(exports.iter_csv(frame))
    data = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    missing = data[data["fx_status"] == "missing rate"]
    assert len(missing) == 2 and set(missing["actual"]) == {""}
    total = data[data["budget"] == "TOTAL EUR"].iloc[0]
    assert total["actual"] == "" and total["fx_status"] == "incomplete: missing rate"


def test_empty_budget_exports_a_header_only(users):
    budget = BudgetFactory(owner=users["finance"])
    db.session.commit()
    _, frame = frame_for(budget)
    assert "".join(exports.iter_csv(frame)).splitlines() == [",".join(exports.HEADER)]


def test_cli_export_csv_and_xlsx(app, world, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export", "budgets", "--period", world.period])
    assert result.exit_code == 0, result.output
    data = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert (
        Decimal(data[data["budget"] == "TOTAL EUR"]["planned"].iloc[0])
        == expected_totals(world)["planned"]
    )
    out = tmp_path / "b.xlsx"
    result = runner.invoke(
        args=[
            "export",
            "budgets",
            "--period",
            world.period.lower(),
            "--format",
            "xlsx",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Budget vs actual"].max_row == 32
    assert (
        "needs --output"
        in runner.invoke(
            args=["export", "budgets", "--period", world.period, "--format", "xlsx"]
        ).output
    )
    missing = runner.invoke(args=["export", "budgets", "--period", "2031-01"])
    assert missing.exit_code == 2 and "No budget for 2031-01" in missing.output
    bad = runner.invoke(args=["export", "budgets", "--period", "soon"])
    assert bad.exit_code == 2 and "is not a period" in bad.output
