"""`flask --app wsgi export performance`: one row per platform campaign, typed and safe."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl

from ads import services
from ads.models import Platform
from core.extensions import db
from tests import factories

END = date(2026, 3, 31)


def _seed(users):
    campaign = factories.CampaignFactory(name="Spring Launch", owner=users["marketer"])
    account = services.csv_account(Platform.GOOGLE_ADS.value, "123-456", "EUR", "Search EU")
    pc = services.upsert_platform_campaign(account, "987", '=HYPERLINK("http://evil")')
    services.map_manually(pc, campaign.id)
    rows = [
        services.FactRow(
            platform_campaign_id=pc.id,
            level="campaign",
            object_id="987",
            day=date(2026, 3, d),
            attribution_setting="",
            currency="EUR",
            spend_minor=10050,
            impressions=1000,
            clicks=40,
            conversions=4,
            conversion_value_minor=40000,
        )
        for d in (1, 2)
    ]
    services.upsert_facts(account, rows, None)
    db.session.commit()


def test_csv_export_has_one_row_per_platform_campaign_and_neutralises_text(app, users):
    _seed(users)
    result = app.test_cli_runner().invoke(
        args=["export", "performance", "--since", "2026-03-01", "--until", "2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    first = rows[0]
    assert first["platform_campaign_name"].startswith("'=")  # not a formula
    assert first["flightdeck_campaign"] == "Spring Launch"
    assert Decimal(first["spend"]) == Decimal("201.00")
    assert Decimal(first["conversion_value"]) == Decimal("800.00")
    assert Decimal(first["roas"]) == Decimal("3.9801")
    assert Decimal(first["cpa"]) == Decimal("25.1250")
    assert rows[-1]["platform"] == "TOTAL" and Decimal(rows[-1]["spend"]) == Decimal("201.00")


def test_xlsx_export_keeps_numbers_typed(app, users, tmp_path):
    _seed(users)
    out = tmp_path / "perf.xlsx"
    result = app.test_cli_runner().invoke(
        args=[
            "export",
            "performance",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-31",
            "--format",
            "xlsx",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert row["spend"].data_type == "n" and row["spend"].value == 201
    assert row["platform_campaign_name"].data_type == "s"
    assert str(row["platform_campaign_name"].value).startswith("'=")
    assert sheet.freeze_panes == "A2"


def test_bad_dates_are_refused_cleanly(app):
    result = app.test_cli_runner().invoke(
        args=["export", "performance", "--since", "2026-13-01", "--until", "2026-03-31"]
    )
    assert result.exit_code != 0
    assert "2026-13-01" in result.output


def test_spend_outside_the_flight_has_its_own_column(app, users):
    # The campaign's flight is 2–31 March: the 1 March row is outside it. An unmapped
    # platform campaign has no flight: its column stays empty.
    campaign = factories.CampaignFactory(
        name="Spring", owner=users["marketer"], start_date=date(2026, 3, 2), end_date=END
    )
    account = services.csv_account(Platform.META_ADS.value, "act_9", "EUR")
    for external_id, campaign_id in (("1", campaign.id), ("2", None)):
        pc = services.upsert_platform_campaign(account, external_id, f"PC {external_id}")
        pc.campaign_id = campaign_id
        db.session.flush()
        services.upsert_facts(
            account,
            [
                services.FactRow(
                    platform_campaign_id=pc.id,
                    level="campaign",
                    object_id=external_id,
                    day=date(2026, 3, d),
                    attribution_setting="",
                    currency="EUR",
                    spend_minor=1_000 * d,
                )
                for d in (1, 2, 3)
            ],
            None,
        )
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["export", "performance", "--since", "2026-03-01", "--until", "2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["platform_campaign_id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert Decimal(rows["1"]["spend"]) == Decimal("60.00")
    assert Decimal(rows["1"]["spend_outside_flight"]) == Decimal("10.00")
    assert rows["2"]["spend_outside_flight"] == "" and rows["2"]["flightdeck_campaign"] == ""
    total = next(r for r in rows.values() if r["platform"] == "TOTAL")
    assert Decimal(total["spend"]) == Decimal("120.00")
    assert Decimal(total["spend_outside_flight"]) == Decimal("10.00")
