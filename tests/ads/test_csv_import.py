"""CSV imports of Google Ads, TikTok Ads and LinkedIn daily campaign exports."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ads import csv_cells, csv_dates, csv_parse, csv_store
from ads.csv_import import RowError, import_csv
from ads.models import AdAccount, PlatformCampaign, Restatement, SpendFact, SyncRun
from core.extensions import db
from tests import factories

DATA = Path(__file__).parent / "data"


def _run(platform: str, name_or_bytes: str | bytes, **kwargs):
    if isinstance(name_or_bytes, str):
        data, filename = (DATA / name_or_bytes).read_bytes(), name_or_bytes
    else:
        data, filename = name_or_bytes, kwargs.pop("filename", "upload.csv")
    result = import_csv(platform, data, filename=filename, **kwargs)
    db.session.commit()
    return result


def _totals() -> dict[str, int]:
    row = db.session.execute(
        select(
            func.count(SpendFact.id),
            func.coalesce(func.sum(SpendFact.spend_minor), 0),
            func.coalesce(func.sum(SpendFact.impressions), 0),
            func.coalesce(func.sum(SpendFact.clicks), 0),
            func.coalesce(func.sum(SpendFact.conversions), 0),
            func.coalesce(func.sum(SpendFact.purchases), 0),
            func.coalesce(func.sum(SpendFact.conversion_value_minor), 0),
            func.coalesce(func.sum(SpendFact.leads), 0),
            func.coalesce(func.sum(SpendFact.reach), 0),
        )
    ).one()
    keys = ("facts", "spend", "impr", "clicks", "conv", "purchases", "value", "leads", "reach")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the platforms' real export shapes ----------------------------------------------------------


def test_google_ads_report_totals_match_the_file_and_total_rows_are_skipped():
    result = _run("google_ads", "google_ads_campaign_report.csv")

    assert result.status == "succeeded", result.message
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (9, 0, 0, 0)
    assert result.encoding == "utf-8" and result.header_row == 3
    assert "Skipped 4 total rows" in result.message
    # Segment rows (Google search + Search partners) are summed into one fact per campaign-day;
    # fractional conversions are summed first, then rounded once (13.00, 6.33 -> 6, 6.67 -> 7).
    assert _totals() == {
        "facts": 9,
        "spend": 613040,
        "impr": 128948,
        "clicks": 3122,
        "conv": 57,
        "purchases": 57,
        "value": 983355,
        "leads": 0,
        "reach": 0,
    }
    brand = db.session.scalar(
        select(SpendFact).where(
            SpendFact.object_id == "20512345601", SpendFact.day == date(2026, 3, 1)
        )
    )
    assert (brand.spend_minor, brand.impressions, brand.clicks, brand.conversions) == (
        125000,
        13000,
        460,
        13,
    )
    assert (brand.level, brand.attribution_setting, brand.currency) == ("campaign", "", "EUR")
    account = db.session.scalar(select(AdAccount))
    assert (account.platform, account.external_id, account.name, account.currency) == (
        "google_ads",
        "123-456-7890",
        "Stride EU",
        "EUR",
    )
    names = db.session.scalars(select(PlatformCampaign.name).order_by(PlatformCampaign.name))
    assert list(names) == ["Brand Search DE", "Display Remarketing", "Generic Running Shoes"]
    run = db.session.get(SyncRun, result.run_id)
    assert (run.kind, run.status, run.source_name) == (
        "csv_import",
        "succeeded",
        "google_ads_campaign_report.csv",
    )
    assert (run.rows_inserted, run.rows_rejected, run.account_id) == (9, 0, account.id)
    assert (run.since, run.until) == (date(2026, 3, 1), date(2026, 3, 3))
    assert run.finished_at is not None
    assert run.details["encoding"] == "utf-8" and run.details["header_row"] == 3
    assert run.details["platform"] == "google_ads" and run.details["errors"] == []
    assert run.details["skipped_total_rows"] == [15, 16, 17, 18]


def test_reimporting_the_same_file_changes_nothing():
    first = _run("google_ads", "google_ads_campaign_report.csv")
    before = _totals()
    second = _run("google_ads", "google_ads_campaign_report.csv")

    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (9, 0, 0, 9)
    assert _totals() == before
    assert _count(AdAccount) == 1 and _count(PlatformCampaign) == 3
    assert _count(Restatement) == 0
    assert db.session.get(SyncRun, second.run_id).rows_unchanged == 9


def test_a_changed_reexport_updates_only_the_changed_rows():
    _run("google_ads", "google_ads_campaign_report.csv")
    text = (DATA / "google_ads_campaign_report.csv").read_text()
    changed = text.replace('"1,101.00","11,020"', '"1,111.00","11,020"')
    assert changed != text

    result = _run("google_ads", changed.encode())

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 8)
    assert _totals()["spend"] == 613040 + 1000
    restated = db.session.scalars(select(Restatement)).all()
    assert [(r.field, r.old_value, r.new_value, r.day) for r in restated] == [
        ("spend_minor", 111001, 112001, date(2026, 3, 2))
    ]


def test_google_ads_excel_csv_is_utf16_with_tabs_and_weekday_dates():
    result = _run("google_ads", "google_ads_excel_utf16.csv")

    assert result.status == "succeeded", result.message
    assert result.encoding == "utf-16-le" and result.header_row == 3
    assert (result.inserted, result.rejected) == (4, 0)
    # 22.50 and 23.50 conversions round half-even: 22 and 24.
    assert _totals() == {
        "facts": 4,
        "spend": 363850,
        "impr": 186666,
        "clicks": 2374,
        "conv": 55,
        "purchases": 55,
        "value": 728480,
        "leads": 0,
        "reach": 0,
    }
    assert set(db.session.scalars(select(SpendFact.day))) == {date(2026, 3, 1), date(2026, 3, 2)}
    account = db.session.scalar(select(AdAccount))
    assert (account.external_id, account.name) == ("987-654-3210", "Stride AT")


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_utf16_without_or_with_other_byte_order_is_read(encoding):
    text = (DATA / "google_ads_campaign_report.csv").read_text()
    data = ("\ufeff" + text).encode(encoding) if encoding == "utf-16-be" else text.encode(encoding)

    result = _run("google_ads", data)

    assert result.encoding == encoding and result.inserted == 9
    assert _totals()["spend"] == 613040


def test_tiktok_export_with_bom_dashes_and_total_row():
    result = _run("tiktok_ads", "tiktok_campaign_daily.csv")

    assert result.status == "succeeded", result.message
    assert result.encoding == "utf-8-sig" and result.header_row == 1
    assert "Skipped 1 total row" in result.message
    assert _totals() == {
        "facts": 5,
        "spend": 173243,
        "impr": 248435,
        "clicks": 3959,
        "conv": 90,
        "purchases": 90,
        "value": 712048,
        "leads": 0,
        "reach": 180513,
    }
    account = db.session.scalar(select(AdAccount))
    assert (account.external_id, account.currency) == ("tiktok_ads-default", "USD")
    pc = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "1790001234567890001")
    )
    # The latest day's name and status win.
    assert (pc.name, pc.status) == ("AirRun Launch - Spark Ads", "Not delivering")


def test_tiktok_account_id_argument_is_used_when_the_file_has_no_account_column():
    result = _run("tiktok_ads", "tiktok_campaign_daily.csv", account_id="7012345678901234567")

    assert result.inserted == 5
    assert db.session.scalar(select(AdAccount.external_id)) == "7012345678901234567"


def test_linkedin_export_metadata_lines_and_us_dates():
    result = _run("linkedin_ads", "linkedin_campaign_performance.csv")

    assert result.status == "succeeded", result.message
    assert result.header_row == 7
    assert _totals() == {
        "facts": 5,
        "spend": 167650,
        "impr": 67335,
        "clicks": 560,
        "conv": 17,
        "purchases": 17,
        "value": 252000,
        "leads": 24,
        "reach": 0,
    }
    # 3/12/2026 is the 12th of March (M/D/YYYY), not the 3rd of December.
    days = set(db.session.scalars(select(SpendFact.day)))
    assert days == {date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 12)}
    account = db.session.scalar(select(AdAccount))
    # "Account: 50999999" above the header names the account.
    assert (account.external_id, account.name, account.currency) == (
        "50999999",
        "Stride Ltd",
        "GBP",
    )


def test_semicolon_decimal_comma_cp1252_export():
    result = _run("google_ads", "google_ads_semicolon_cp1252.csv")

    assert result.status == "succeeded", result.message
    assert result.encoding == "cp1252"
    totals = _totals()
    # "1.234,56 €" + "99,9 €"; "12.345" impressions is twelve thousand; 12,5 + 1 conversions.
    assert (totals["spend"], totals["impr"], totals["conv"], totals["value"]) == (
        133446,
        13345,
        13,
        234567,
    )
    name = db.session.scalar(select(PlatformCampaign.name))
    assert name == "Markenkampagne München"
    assert set(db.session.scalars(select(SpendFact.day))) == {date(2026, 3, 1), date(2026, 3, 2)}


def test_jpy_amounts_have_no_decimals():
    result = _run("tiktok_ads", "tiktok_jpy.csv")

    assert result.status == "succeeded", result.message
    totals = _totals()
    assert (totals["spend"], totals["value"]) == (12345 + 9876, 250000 + 180500)
    assert set(db.session.scalars(select(SpendFact.currency))) == {"JPY"}
    assert db.session.scalar(select(PlatformCampaign.name)) == "春のセール"


# --- November 2026 exports as the platforms write them -------------------------------------------


def _fact(object_id: str, day: date) -> SpendFact:
    return db.session.scalar(
        select(SpendFact).where(SpendFact.object_id == object_id, SpendFact.day == day)
    )


def test_google_ads_ui_campaign_report_by_day():
    """Download → CSV of Campaigns segmented by Day: title and range lines, the status column
    first, " --" for empty metrics, quoted thousands, percent columns, four Total lines."""
    result = _run("google_ads", "google_ads_campaigns_by_day.csv")

    assert result.status == "succeeded", result.message
    assert (result.inserted, result.rejected, result.header_row) == (7, 0, 3)
    assert "Skipped 4 total rows" in result.message
    # 201.76 + 193.05 + 1,398.91 + 1,401.20 + 245.52 = 3,440.44 (the file's Total: Account);
    # conversions per day rounded half-even: 24 + 20 (19.50) + 31 + 29 + 12 = 116.
    assert _totals() == {
        "facts": 7,
        "spend": 344044,
        "impr": 96472,
        "clicks": 3458,
        "conv": 116,
        "purchases": 116,
        "value": 1573500,
        "leads": 0,
        "reach": 0,
    }
    shoes = _fact("21034567802", date(2026, 11, 4))
    assert (shoes.spend_minor, shoes.impressions, shoes.clicks, shoes.conversions) == (
        140120,
        17755,
        965,
        29,
    )
    assert shoes.conversion_value_minor == 401380 and shoes.currency == "EUR"
    empty = _fact("21034567803", date(2026, 11, 4))
    assert (empty.spend_minor, empty.impressions, empty.clicks) == (0, 0, 0)
    campaigns = {
        pc.external_id: (pc.name, pc.status) for pc in db.session.scalars(select(PlatformCampaign))
    }
    assert campaigns == {
        "21034567801": ("Brand | Search | DE", "Enabled"),
        "21034567802": ("Generic | Running Shoes, Men", "Enabled"),
        "21034567803": ("PMax | Winter Sale", "Paused"),
        "21034567804": ("Old Test Campaign", "Removed"),
    }
    run = db.session.get(SyncRun, result.run_id)
    assert (run.since, run.until) == (date(2026, 11, 3), date(2026, 11, 4))
    assert run.details["skipped_total_rows"] == [11, 12, 13, 14]


def test_google_ads_excel_csv_in_the_german_ui():
    """Excel CSV (UTF-16, tabs) from a German UI: German headers, D.M.YYYY days, decimal
    commas, dotted thousands and a "Gesamt: Konto" line."""
    result = _run("google_ads", "google_ads_excel_csv_german.csv")

    assert result.status == "succeeded", result.message
    assert (result.encoding, result.inserted, result.header_row) == ("utf-16-le", 3, 3)
    assert "Skipped 1 total row" in result.message
    totals = _totals()
    # 1.234,56 + 99,90 + 0,00 = 1.334,46; conversions 12,50 -> 12 (half-even) + 1.
    assert (totals["spend"], totals["impr"], totals["clicks"]) == (133446, 13345, 466)
    assert (totals["conv"], totals["value"]) == (13, 246567)
    assert _fact("21077700001", date(2026, 11, 4)).spend_minor == 9990
    assert db.session.get(SyncRun, result.run_id).details["decimal_comma"] is True


def test_google_ads_script_report_with_cost_in_micros():
    """A Google Ads scripts / API report: GAQL column names, cost in millionths."""
    result = _run("google_ads", "google_ads_script_report.csv")

    assert result.status == "succeeded", result.message
    totals = _totals()
    # 287.45 + 612.333333 (-> 612.33) + 280.00 + 0; conversions 21 + 14 (14.5) + 20 (20.5).
    assert (totals["facts"], totals["spend"], totals["impr"], totals["clicks"]) == (
        4,
        117978,
        19900,
        1342,
    )
    assert (totals["conv"], totals["value"]) == (55, 762275)
    assert _fact("21099900002", date(2026, 11, 3)).spend_minor == 61233
    account = db.session.scalar(select(AdAccount))
    assert (account.external_id, account.name, account.currency) == (
        "1234567890",
        "Stride US",
        "USD",
    )


def test_tiktok_custom_report_by_day():
    """TikTok Ads Manager custom report: By Day, advertiser columns, "-" for no delivery and
    a closing "Total of 5 results" line."""
    result = _run("tiktok_ads", "tiktok_ads_custom_report_by_day.csv")

    assert result.status == "succeeded", result.message
    assert (result.inserted, result.rejected) == (5, 0)
    assert "Skipped 1 total row" in result.message
    assert _totals() == {
        "facts": 5,
        "spend": 158275,
        "impr": 225036,
        "clicks": 3990,
        "conv": 123,
        "purchases": 123,
        "value": 984000,
        "leads": 0,
        "reach": 155200,
    }
    spark = _fact("1849000000000000101", date(2026, 11, 4))
    assert (spark.spend_minor, spark.impressions, spark.clicks, spark.reach) == (
        105025,
        150036,
        2700,
        99000,
    )
    assert _fact("1849000000000000102", date(2026, 11, 5)).spend_minor == 0
    account = db.session.scalar(select(AdAccount))
    assert (account.external_id, account.name, account.currency) == (
        "7301234567890123456",
        "Stride Shoes US",
        "USD",
    )


def test_linkedin_campaign_performance_daily_export():
    """Campaign Manager export with Time breakdown: Daily: four preamble lines and a blank,
    Start and End Date (in UTC) equal on every row, M/D/YYYY dates."""
    result = _run("linkedin_ads", "linkedin_campaign_performance_daily.csv", account_id="508765432")

    assert result.status == "succeeded", result.message
    assert (result.inserted, result.header_row) == (5, 6)
    assert _totals() == {
        "facts": 5,
        "spend": 109600,
        "impr": 43730,
        "clicks": 358,
        "conv": 15,
        "purchases": 15,
        "value": 217500,
        "leads": 26,
        "reach": 31400,
    }
    assert set(db.session.scalars(select(SpendFact.day))) == {
        date(2026, 11, 3),
        date(2026, 11, 4),
        date(2026, 11, 12),
    }
    account = db.session.scalar(select(AdAccount))
    assert (account.external_id, account.name, account.currency) == (
        "508765432",
        "Stride Ltd",
        "GBP",
    )
    retargeting = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "698765002")
    )
    assert (retargeting.name, retargeting.status) == ("Retargeting Visitors", "PAUSED")


def test_linkedin_export_in_portuguese_utf16_with_tabs():
    """Campaign Manager in Portuguese: UTF-16 and tabs, "Total investido", decimal commas and
    D/M/YYYY dates that only the language tells apart (03/11 is 3 November)."""
    result = _run("linkedin_ads", "linkedin_campaign_performance_pt_daily.csv")

    assert result.status == "succeeded", result.message
    assert (result.encoding, result.inserted, result.header_row) == ("utf-16-le", 4, 1)
    assert _totals() == {
        "facts": 4,
        "spend": 103431,
        "impr": 9436,
        "clicks": 6500,
        "conv": 4,
        "purchases": 4,
        "value": 120000,
        "leads": 3,
        "reach": 9078,
    }
    assert set(db.session.scalars(select(SpendFact.day))) == {date(2026, 11, 3), date(2026, 11, 4)}
    assert _fact("226747093", date(2026, 11, 4)).spend_minor == 101250
    pc = db.session.scalar(
        select(PlatformCampaign).where(PlatformCampaign.external_id == "276250623")
    )
    assert (pc.name, pc.status) == ("[STR] Obtenção de Seguidores - LATAM", "Pausado")
    assert db.session.scalar(select(AdAccount.currency)) == "USD"


def test_linkedin_monthly_export_without_end_date_is_refused_row_by_row():
    """A Monthly export has one row per campaign on the 1st and no End Date column; Total
    Spent over Average Daily Spend gives each row away as about 30 days."""
    result = _run("linkedin_ads", "linkedin_campaign_performance_pt_monthly.csv")

    assert result.status == "failed" and result.rejected == 2
    assert "every row covers more than one day" in result.message
    assert "Time breakdown: Daily" in result.message
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "Data de início (em UTC)"),
        (3, "Data de início (em UTC)"),
    ]
    assert result.errors[0].problem == (
        "the row covers about 30 days (Total investido 454.06, "
        "Média de investimento diário 15.14), not one day"
    )
    assert _count(SpendFact) == 0 and _count(AdAccount) == 0 and _count(PlatformCampaign) == 0


@pytest.mark.parametrize(
    ("platform", "name", "facts"),
    [
        ("google_ads", "google_ads_campaigns_by_day.csv", 7),
        ("google_ads", "google_ads_excel_csv_german.csv", 3),
        ("google_ads", "google_ads_script_report.csv", 4),
        ("google_ads", "google_ads_two_exports_pasted.csv", 5),
        ("tiktok_ads", "tiktok_ads_custom_report_by_day.csv", 5),
        ("linkedin_ads", "linkedin_campaign_performance_daily.csv", 5),
        ("linkedin_ads", "linkedin_campaign_performance_pt_daily.csv", 4),
    ],
)
def test_reimporting_a_real_export_changes_nothing(platform, name, facts):
    first = _run(platform, name)
    before = _totals()
    campaigns = _count(PlatformCampaign)
    again = _run(platform, name)

    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (facts, 0, 0, facts)
    assert _totals() == before and before["facts"] == facts
    assert _count(PlatformCampaign) == campaigns and _count(AdAccount) == 1
    assert _count(Restatement) == 0
    assert again.rejected == first.rejected


def test_rows_repeated_in_one_file_are_counted_once_and_listed():
    """Two exports pasted into one file: the second's title and header are skipped, a row
    repeated exactly counts once, a repeat with other numbers is refused; both are listed."""
    result = _run("google_ads", "google_ads_two_exports_pasted.csv")

    assert result.status == "partial"
    assert (result.inserted, result.rejected) == (5, 2)
    assert [(e.row, e.column) for e in result.errors] == [(12, "Campaign ID"), (13, "Campaign ID")]
    assert result.errors[0].problem == "repeats row 6 exactly: counted once"
    assert "same campaign and day as row 7 with other numbers" in result.errors[1].problem
    assert "row 7 is kept" in result.errors[1].problem
    assert "3 note or repeated header lines" in result.message
    # Brand on 4 Nov once (193.05, not twice), PMax on 4 Nov as first given (0.00, not 12.40).
    assert _fact("21034567801", date(2026, 11, 4)).spend_minor == 19305
    assert _fact("21034567803", date(2026, 11, 4)).spend_minor == 0
    assert _totals()["spend"] == 20176 + 24552 + 19305 + 0 + 18820


def test_segment_rows_are_summed_but_a_repeated_segment_is_not():
    data = (
        b"Day,Campaign,Campaign ID,Network (with search partners),Currency code,Cost,Clicks\n"
        b"2026-11-03,Brand,1,Google search,EUR,10.00,5\n"
        b"2026-11-03,Brand,1,Search partners,EUR,2.50,1\n"
        b"2026-11-03,Brand,1,Search partners,EUR,2.50,1\n"
    )

    result = _run("google_ads", data)

    assert (result.inserted, result.rejected) == (1, 1)
    assert result.errors == [RowError(4, "Campaign ID", "repeats row 3 exactly: counted once")]
    assert (_totals()["spend"], _totals()["clicks"]) == (1250, 6)


# --- bad rows -----------------------------------------------------------------------------------


def test_bad_rows_are_listed_and_good_rows_kept():
    result = _run("google_ads", "google_ads_bad_rows.csv")

    assert result.status == "partial"
    assert (result.inserted, result.rejected) == (2, 5)
    assert result.errors == [
        RowError(5, "Day", "'2026-02-30' is not a date"),
        RowError(6, "Cost", "'12.3x' is not a number"),
        RowError(7, "Cost", "negative spend (-5.00)"),
        RowError(8, "Campaign ID", "the campaign id is missing"),
        RowError(9, "Currency code", "'XYZ' is not an ISO 4217 currency code"),
    ]
    assert "5 rows rejected" in result.message
    assert (_totals()["facts"], _totals()["spend"]) == (2, 30000)
    run = db.session.get(SyncRun, result.run_id)
    assert (run.status, run.rows_rejected, run.rows_inserted) == ("partial", 5, 2)
    assert run.details["errors"][0] == {
        "row": 5,
        "column": "Day",
        "problem": result.errors[0].problem,
    }
    assert run.details["error_count"] == 5


def test_every_problem_of_a_row_is_reported_with_its_column():
    data = (
        b"Date,Campaign name,Campaign ID,Currency,Cost,Impressions,Clicks\n"
        b"yesterday,X,1,USD,abc,-4,1.5\n"
        b"2026-03-01,Y,2.05123E+10,USD,1.00,1,1\n"
    )

    result = _run("tiktok_ads", data)

    assert result.status == "failed" and result.rejected == 2
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "Date"),
        (2, "Cost"),
        (2, "Impressions"),
        (2, "Clicks"),
        (3, "Campaign ID"),
    ]
    assert "scientific notation" in result.errors[-1].problem
    assert "Nothing imported" in result.message
    assert _count(SpendFact) == 0 and _count(AdAccount) == 0


def test_missing_currency_is_a_row_error_unless_the_caller_gives_one():
    data = (
        b"Date,Campaign name,Campaign ID,Cost,Impressions,Clicks\n"
        b"2026-03-01,Evergreen,111,10.50,100,3\n"
        b"2026-03-02,Evergreen,111,11.50,110,4\n"
    )

    refused = _run("tiktok_ads", data)
    assert refused.rejected == 2 and _count(SpendFact) == 0
    assert refused.errors[0].column == "Currency" and "no currency" in refused.errors[0].problem

    accepted = _run("tiktok_ads", data, currency="eur")
    assert accepted.inserted == 2 and _totals()["spend"] == 2200
    assert db.session.scalar(select(AdAccount.currency)) == "EUR"


def test_a_file_without_currency_uses_the_currency_of_its_known_account():
    _run("tiktok_ads", "tiktok_ads_custom_report_by_day.csv")  # the advertiser, in USD
    data = (
        b"By Day,Campaign name,Campaign ID,Advertiser ID,Cost,Impressions\n"
        b"2026-11-06,Winter Drop | Spark Ads,1849000000000000101,7301234567890123456,$99.10,9000\n"
        b"2026-11-06,New Launch,1849000000000000199,7309999999999999999,5.00,100\n"
    )

    result = _run("tiktok_ads", data)

    # The known advertiser's row is stored in its USD; the unknown one needs a currency.
    assert (result.inserted, result.rejected) == (1, 1)
    assert result.errors[0].row == 3 and "no currency" in result.errors[0].problem
    day = _fact("1849000000000000101", date(2026, 11, 6))
    assert (day.spend_minor, day.currency, day.impressions) == (9910, "USD", 9000)


def test_a_name_only_export_lands_on_the_campaigns_known_by_id():
    """An export without the Campaign ID column after one with it: the rows go to the
    campaigns already known by id, so one campaign is never counted twice."""
    _run("google_ads", "google_ads_campaigns_by_day.csv", account_id="123-000-0000")
    data = (
        b"Campaign report\n"
        b"Day,Campaign,Currency code,Cost,Impr.,Clicks\n"
        b'2026-11-04,Brand | Search | DE,EUR,193.05,"3,987",351\n'
        b'2026-11-05,Brand | Search | DE,EUR,188.20,"3,850",340\n'
        b"2026-11-05,Brand New Campaign,EUR,5.00,100,2\n"
    )

    result = _run("google_ads", data, account_id="123-000-0000")

    assert (result.inserted, result.unchanged, result.rejected) == (2, 1, 0)
    ids = set(db.session.scalars(select(PlatformCampaign.external_id)))
    assert ids == {"21034567801", "21034567802", "21034567803", "21034567804", "Brand New Campaign"}
    assert _fact("21034567801", date(2026, 11, 5)).spend_minor == 18820
    assert _totals()["spend"] == 344044 + 18820 + 500


def test_a_narrower_reexport_does_not_zero_the_metrics_it_lacks():
    _run("google_ads", "google_ads_campaigns_by_day.csv")
    data = (
        b"Day,Campaign,Campaign ID,Currency code,Cost\n"
        b"2026-11-03,Brand | Search | DE,21034567801,EUR,205.00\n"
        b"2026-11-04,Brand | Search | DE,21034567801,EUR,193.05\n"
    )

    result = _run("google_ads", data)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    brand = _fact("21034567801", date(2026, 11, 3))
    assert (brand.spend_minor, brand.impressions, brand.clicks) == (20500, 4210, 388)
    assert (brand.conversions, brand.conversion_value_minor) == (24, 312000)
    restated = db.session.scalars(select(Restatement)).all()
    assert [(r.field, r.old_value, r.new_value) for r in restated] == [
        ("spend_minor", 20176, 20500)
    ]


@pytest.mark.parametrize(
    ("platform", "header", "currency"),
    [
        ("tiktok_ads", "Date,Campaign name,Campaign ID,Cost (USD),Impressions,Clicks (all)", "USD"),
        (
            "linkedin_ads",
            "Start Date (in UTC),Campaign Name,Campaign ID,Total Spent (in GBP),Impressions,Clicks",
            "GBP",
        ),
    ],
)
def test_the_currency_in_the_cost_header_is_the_currency_of_the_rows(platform, header, currency):
    data = f"{header}\n2026-11-03,Spark,1,12.50,100,7\n".encode()

    result = _run(platform, data)

    assert (result.inserted, result.rejected) == (1, 0), result.errors
    day = _fact("1", date(2026, 11, 3))
    assert (day.currency, day.spend_minor, day.impressions, day.clicks) == (currency, 1250, 100, 7)


def test_blank_dash_negative_and_quoted_cells():
    data = (
        b"Day,Campaign,Campaign ID,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value\n"
        b'2026-11-03,A,1,EUR,,"",--, --,\n'
        b'2026-11-04,A,1,EUR,"1,234.50","2,000", 12 ,"1.5","(10.00)"\n'
        b"2026-11-05,A,1,EUR,\xe2\x82\xac7.25,-3,1,0,0\n"
        b"2026-11-06,A,1,EUR,-0.50,10,1,0,0\n"
        b"2026-11-07,A,1,EUR,1.5%,10,2.5,0,0\n"
    )

    result = _run("google_ads", data)

    assert (result.inserted, result.rejected) == (2, 3)
    assert result.errors == [
        RowError(4, "Impr.", "negative value (-3)"),
        RowError(5, "Cost", "negative spend (-0.50)"),
        RowError(6, "Clicks", "'2.5' is not a whole number"),
    ]
    blank = _fact("1", date(2026, 11, 3))
    assert (blank.spend_minor, blank.impressions, blank.clicks, blank.conversions) == (0, 0, 0, 0)
    quoted = _fact("1", date(2026, 11, 4))
    assert (quoted.spend_minor, quoted.impressions, quoted.clicks) == (123450, 2000, 12)
    assert (quoted.conversions, quoted.conversion_value_minor) == (2, -1000)


def test_a_row_covering_more_than_one_day_is_rejected_among_daily_rows():
    text = (DATA / "linkedin_campaign_performance_daily.csv").read_text()
    text = text.replace('"11/12/2026","11/12/2026"', '"11/1/2026","11/30/2026"')

    result = _run("linkedin_ads", text.encode())

    assert (result.inserted, result.rejected) == (4, 1)
    assert result.errors == [
        RowError(11, "End Date (in UTC)", "the row covers 01 Nov 2026 – 30 Nov 2026, not one day")
    ]
    assert _totals()["spend"] == 109600 - 30500


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("2026-11-01 - 2026-11-30", "covers 01 Nov 2026 – 30 Nov 2026, not one day"),
        ("2026/11/01~2026/11/07", "covers 01 Nov 2026 – 07 Nov 2026, not one day"),
        ("November 2026", "is a month, not a day"),
        ("2026-11", "is a month, not a day"),
    ],
)
def test_a_period_in_the_date_cell_is_a_row_error(cell, problem):
    data = (
        "Date,Campaign name,Campaign ID,Currency,Cost\n"
        "2026-11-03,Spark,1,USD,1.00\n"
        f"{cell},Spark,1,USD,30.00\n"
    ).encode()

    result = _run("tiktok_ads", data)

    assert (result.inserted, result.rejected) == (1, 1)
    assert result.errors[0].row == 3 and result.errors[0].column == "Date"
    assert problem in result.errors[0].problem
    assert _totals()["spend"] == 100


def test_rows_in_another_currency_than_the_account_are_rejected():
    _run("tiktok_ads", "tiktok_campaign_daily.csv")  # creates the default account in USD

    result = _run("tiktok_ads", "tiktok_jpy.csv")

    assert result.rejected == 2 and result.inserted == 0
    assert "reports in USD" in result.errors[0].problem
    assert set(db.session.scalars(select(SpendFact.currency))) == {"USD"}


def test_retracted_conversions_may_be_negative_but_spend_may_not():
    data = (
        b"Day,Campaign,Campaign ID,Currency code,Cost,Conversions,Conv. value\n"
        b"2026-03-01,Brand,1,EUR,10.00,-1.00,-25.50\n"
        b"2026-03-02,Brand,1,EUR,-0.01,0,0\n"
    )

    result = _run("google_ads", data)

    assert result.inserted == 1
    assert result.errors == [RowError(3, "Cost", "negative spend (-0.01)")]
    assert (_totals()["conv"], _totals()["value"]) == (-1, -2550)


def test_row_report_is_capped_but_counted():
    lines = ["Date,Campaign name,Campaign ID,Currency,Cost"]
    lines += [f"2026-03-01,C{n},{n},USD,bad" for n in range(1500)]
    lines += ["2026-03-01,Good,99999,USD,1.00"]

    result = _run("tiktok_ads", "\n".join(lines).encode())

    assert (result.rejected, result.inserted, result.error_count) == (1500, 1, 1500)
    assert len(result.errors) == 1000
    run = db.session.get(SyncRun, result.run_id)
    assert len(run.details["errors"]) == 1000 and run.details["error_count"] == 1500


# --- file-level problems ------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Day", "Campaign", "Cost"])
    book.active.append(["2026-03-01", "Brand", 12.5])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("platform", "data", "expected"),
    [
        ("google_ads", "empty.csv", "The file is empty"),
        ("google_ads", b"\r\n \r\n", "The file is empty"),
        ("google_ads", "google_ads_header_only.csv", "has a header row (line 1) but no data rows"),
        ("google_ads", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "PNG image"),
        ("google_ads", _xlsx(), "Excel workbook"),
        ("google_ads", bytes(range(256)) * 20, "not a text CSV"),
        ("google_ads", b"just some notes\nnothing tabular here\n", "No Google Ads header row"),
        ("tiktok_ads", "google_ads_campaign_report.csv", "looks like a Google Ads export"),
        ("google_ads", "tiktok_campaign_daily.csv", "looks like a TikTok Ads export"),
        ("google_ads", "linkedin_campaign_performance.csv", "looks like a LinkedIn Ads export"),
        (
            "tiktok_ads",
            b"Reporting starts,Reporting ends,Campaign name,Amount spent (EUR)\n",
            "Meta Ads export",
        ),
        (
            "google_ads",
            b"Campaign report\nCampaign,Campaign ID,Cost\nBrand,1,2.00\n",
            "no date column",
        ),
        ("google_ads", b"Day,Cost,Clicks\n2026-03-01,1.00,2\n", "no campaign column"),
        ("meta_ads", "google_ads_campaign_report.csv", "Unknown platform"),
        # Reports that are not by day: the message says how to export by day.
        ("google_ads", "google_ads_month_no_day.csv", "Segment → Time → Day"),
        ("google_ads", "google_ads_week_segment.csv", "the rows are weekly totals, not days"),
        ("linkedin_ads", "linkedin_campaign_performance_monthly.csv", "Time breakdown: Daily"),
        (
            "tiktok_ads",
            b"Date,Campaign name,Campaign ID,Currency,Cost\n"
            b"2026-11-01 ~ 2026-11-30,Spark,1,USD,30.00\n",
            "Every row covers more than one day",
        ),
        (
            "tiktok_ads",
            b"Campaign name,Campaign ID,Currency,Cost,Impressions\nSpark,1,USD,30.00,100\n",
            "By Day",
        ),
        # Another platform's export.
        ("google_ads", "microsoft_ads_campaign_daily.csv", "looks like a Microsoft Ads export"),
        ("google_ads", "microsoft_ads_campaigns_ui.csv", "looks like a Microsoft Ads export"),
        ("linkedin_ads", "google_ads_campaigns_by_day.csv", "choose Google Ads"),
        ("tiktok_ads", "linkedin_campaign_performance_pt_daily.csv", "choose LinkedIn Ads"),
        ("linkedin_ads", "tiktok_ads_custom_report_by_day.csv", "choose TikTok Ads"),
        ("google_ads", "linkedin_campaign_performance_daily.csv", "choose LinkedIn Ads"),
        ("tiktok_ads", "google_ads_campaigns_by_day.csv", "choose Google Ads"),
        ("tiktok_ads", "google_ads_excel_csv_german.csv", "choose Google Ads"),
        ("linkedin_ads", "google_ads_script_report.csv", "choose Google Ads"),
        # Not a CSV file at all.
        ("google_ads", _xlsx(), "save it as “CSV UTF-8"),
        ("tiktok_ads", b"<!DOCTYPE html><html><table><tr><td>Cost</td></tr>", "web page (HTML)"),
        ("google_ads", b'<?xml version="1.0"?><Workbook xmlns="urn:office:spreadsheet">', "XML"),
        ("google_ads", _zip({"a.csv": b"Day,Cost\n", "b.csv": b"Day,Cost\n"}), "holds 2 CSV files"),
        ("google_ads", b"PK\x03\x04 broken zip", "zip file that cannot be opened"),
    ],
)
def test_file_level_problems_store_nothing_but_the_failed_run(platform, data, expected):
    result = _run(platform, data)

    assert result.status == "failed"
    assert expected in result.message
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 0)
    assert _count(SpendFact) == 0 and _count(AdAccount) == 0 and _count(PlatformCampaign) == 0
    run = db.session.get(SyncRun, result.run_id)
    assert (run.status, run.error) == ("failed", result.message)
    assert run.finished_at is not None and _count(SyncRun) == 1


def test_bad_arguments_are_file_level_messages():
    assert "ISO 4217" in _run("tiktok_ads", "tiktok_campaign_daily.csv", currency="EURO").message
    assert "longer than 64" in _run("google_ads", "empty.csv", account_id="x" * 65).message
    assert _count(SpendFact) == 0


def test_a_zip_holding_one_export_is_imported():
    export = (DATA / "tiktok_ads_custom_report_by_day.csv").read_bytes()
    data = _zip({"__MACOSX/._report.csv": b"junk", "report.csv": export})

    result = _run("tiktok_ads", data, filename="report.zip")

    assert result.status == "succeeded", result.message
    assert result.inserted == 5 and _totals()["spend"] == 158275


def test_an_xlsx_upload_is_refused_on_the_page_with_what_to_do(client, login_as):
    login_as("marketer")
    response = client.post(
        "/ads/import",
        data={"platform": "tiktok_ads", "file": (io.BytesIO(_xlsx()), "report.csv")},
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Excel workbook (.xlsx)" in page and "CSV UTF-8" in page
    assert _count(SpendFact) == 0 and _count(AdAccount) == 0


def test_a_database_failure_rolls_back_every_row(monkeypatch):
    calls = []
    real = csv_store.upsert_facts

    def failing(account, rows, run_id):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OperationalError("INSERT INTO spend_facts", {}, Exception("disk full"))
        return real(account, rows, run_id)

    monkeypatch.setattr(csv_store, "upsert_facts", failing)
    lines = ["Date,Campaign name,Campaign ID,Currency,Cost"]
    start = date(2025, 1, 1)
    lines += [
        f"{start + timedelta(days=d)},C{c},{c},USD,1.00" for c in range(3) for d in range(500)
    ]

    result = _run("tiktok_ads", "\n".join(lines).encode())

    assert calls == [1000, 500]
    assert result.status == "failed" and "nothing from the file was stored" in result.message
    assert _count(SpendFact) == 0 and _count(AdAccount) == 0 and _count(PlatformCampaign) == 0
    assert db.session.scalar(select(SyncRun.status)) == "failed"


# --- mapping, entry points, scale ---------------------------------------------------------------


def test_tagged_platform_campaign_maps_to_the_flightdeck_campaign():
    campaign = factories.CampaignFactory(name="Spring Sale 2026")
    db.session.commit()
    data = (
        "Date,Campaign name,Campaign ID,Currency,Cost\n"
        f"2026-03-01,Spring Sale [FD-{campaign.id}],555,EUR,10.00\n"
        "2026-03-01,spring sale 2026,556,EUR,5.00\n"
        "2026-03-01,Unrelated,557,EUR,1.00\n"
    ).encode()

    _run("tiktok_ads", data)

    mapped = {
        pc.external_id: (pc.campaign_id, pc.mapping_source)
        for pc in db.session.scalars(select(PlatformCampaign))
    }
    assert mapped == {
        "555": (campaign.id, "tag"),
        "556": (campaign.id, "name"),
        "557": (None, "none"),
    }


def test_campaign_name_is_the_object_id_when_there_is_no_id_column():
    long_name = "Always-on prospecting " * 5
    data = (
        "Day,Campaign,Currency code,Cost\n"
        '"Mar 1, 2026",Brand,EUR,1.00\n'
        f'"Mar 1, 2026","{long_name}",EUR,2.00\n'
    ).encode()

    result = _run("google_ads", data)
    again = _run("google_ads", data)

    assert (result.inserted, again.unchanged) == (2, 2)
    ids = sorted(db.session.scalars(select(SpendFact.object_id)), key=len)
    assert ids[0] == "Brand" and len(ids[1]) == 64
    assert (
        db.session.scalar(
            select(PlatformCampaign.name).where(PlatformCampaign.external_id == ids[1])
        )
        == long_name.strip()
    )


def test_line_numbers_count_lines_inside_quoted_cells():
    data = (
        b"Date,Campaign name,Campaign ID,Currency,Cost\n"
        b'2026-03-01,"Two\nlines",1,USD,1.00\n'
        b"2026-03-01,Broken,2,USD,x\n"
    )

    result = _run("tiktok_ads", data)

    assert [(e.row, e.column) for e in result.errors] == [(4, "Cost")]


def test_cli_import(app):
    runner = app.test_cli_runner()
    path = str(DATA / "google_ads_campaign_report.csv")

    first = runner.invoke(args=["ads", "import-csv", "--platform", "google_ads", path])
    again = runner.invoke(args=["ads", "import-csv", "--platform", "google_ads", path])

    assert first.exit_code == 0, first.output
    assert "9 new, 0 updated, 0 unchanged, 0 rejected" in first.output
    assert "0 new, 0 updated, 9 unchanged, 0 rejected" in again.output
    assert _count(SpendFact) == 9


def test_upload_page_reports_rows_and_never_500s(client, login_as):
    login_as("marketer")
    wrong = client.post(
        "/ads/import",
        data={
            "platform": "linkedin_ads",
            "file": (io.BytesIO((DATA / "google_ads_bad_rows.csv").read_bytes()), "bad.csv"),
        },
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 200
    assert "looks like a Google Ads export" in wrong.get_data(as_text=True)

    partial = client.post(
        "/ads/import",
        data={
            "platform": "google_ads",
            "file": (io.BytesIO((DATA / "google_ads_bad_rows.csv").read_bytes()), "bad.csv"),
        },
        content_type="multipart/form-data",
    )
    page = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert "5 rows rejected" in page
    assert "negative spend (-5.00)" in page
    assert _count(SpendFact) == 2


def _big_export(campaigns: int, days: int) -> tuple[bytes, int]:
    """A Google Ads report of campaigns x days rows and the sum of its cost in cents."""
    start = date(2024, 1, 1)
    out = io.StringIO()
    out.write('Campaign report\n"January 1, 2024 - May 14, 2025"\n')
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Day", "Campaign", "Campaign ID", "Currency code", "Cost", "Impr.", "Clicks"])
    expected = 0
    for c in range(campaigns):
        for d in range(days):
            cents = 100_000 + c * 1000 + d
            expected += cents
            spend = f"{Decimal(cents) / 100:,.2f}"
            writer.writerow(
                [start + timedelta(days=d), f"Campaign {c}", 9_000_000 + c, "EUR", spend, 1000, 9]
            )
    writer.writerow(["Total: Account", "--", "--", "EUR", "--", "--", "--"])
    return out.getvalue().encode(), expected


def test_a_hundred_thousand_rows_import_in_reasonable_time():
    data, expected = _big_export(200, 500)

    began = time.perf_counter()
    result = _run("google_ads", data)
    elapsed = time.perf_counter() - began

    assert (result.inserted, result.rejected) == (100_000, 0), result.message
    assert _totals()["spend"] == expected and _totals()["impr"] == 100_000_000
    assert elapsed < 90, f"100,000 rows took {elapsed:.1f} s"


def test_rows_are_read_as_a_stream_not_held_in_memory():
    """Reading a file keeps only the current row: memory does not grow with the rows."""
    data, _expected = _big_export(100, 300)
    parsed = csv_parse.parse_file("google_ads", data, "acct", None)
    tracemalloc.start()
    try:
        rows = sum(1 for _row in parsed.rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert rows == 30_000 and parsed.data_rows == 30_000
    # A list of 30,000 rows would take far more than this (about 1 KB a row).
    assert peak < 2_000_000, f"peak {peak:,} bytes while reading {rows:,} rows"


# --- cell parsing (no database) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decimal_comma", "expected"),
    [
        ("1234", False, "1234"),
        ("1,234.56", False, "1234.56"),
        ("1.234,56", False, "1234.56"),
        ("1.234,56 €", True, "1234.56"),
        ("12,5", False, "12.5"),
        ("1,234", True, "1.234"),
        ("12.345", True, "12345"),
        ("$1,234.56", False, "1234.56"),
        ("USD 12.00", False, "12.00"),
        ("¥12,345", False, "12345"),
        ("12,50 zł", True, "12.50"),
        ("3.45%", False, "3.45"),
        ("--", False, "0"),
        (" --", False, "0"),
        ("-", False, "0"),
        ("", False, "0"),
        ("(12.00)", False, "-12.00"),
        ("-$5.00", False, "-5.00"),
        ("1 234,50", True, "1234.50"),
        ("1\u00a0234.50", False, "1234.50"),
        ("CA$1,234.50", False, "1234.50"),
        ("AU$12.00", False, "12.00"),
        ("US$ 99.99", False, "99.99"),
        ("₹1,23,456.78", False, "123456.78"),
        ("R$ 1.234,56", True, "1234.56"),
        ("CHF 1'234.50", False, "1234.50"),
        ('="1,234.56"', False, "1234.56"),
        ("1,234.56-", False, "-1234.56"),
        ("−5.00", False, "-5.00"),
        ("0,00 €", True, "0.00"),
    ],
)
def test_numbers(raw, decimal_comma, expected):
    assert csv_cells.parse_number(raw, decimal_comma) == Decimal(expected)


@pytest.mark.parametrize(
    "raw", ["12.3x", "abc", "1.5E+3", "1,2,3", "--5", "12..5", "abc$5", "< 0.01", "1,23,45"]
)
def test_not_numbers(raw):
    with pytest.raises(ValueError, match="is not a number"):
        csv_cells.parse_number(raw, False)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-01",
        "2026/03/01",
        "20260301",
        "Sun, Mar 1, 2026",
        "Mar 1, 2026",
        "March 1, 2026",
        "Sunday, March 1, 2026",
        "1 Mar 2026",
        "01-Mar-2026",
        "3/1/2026",
        "3/1/2026 12:00 AM",
        "2026-03-01 00:00:00",
        "2026-03-01T00:00:00Z",
        "01.03.2026",
        "3/1/26",
        "Mar 1,2026",
        "1-Mar-26",
        "1st March 2026",
        "1. März 2026",
        "So., 1. März 2026",
        "1 mars 2026",
        "1 de marzo de 2026",
        "2026年3月1日",
        "2026. 3. 1.",
        "2026-03-01 00:00:00.000",
        "3/1/2026, 12:00 AM",
        "2026-03-01 - 2026-03-01",
    ],
)
def test_dates(raw):
    assert csv_cells.parse_date(raw, day_first=False) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-03", date(2026, 11, 3)),
        ("11/3/2026", date(2026, 11, 3)),
        ("Nov 3, 2026", date(2026, 11, 3)),
        ("3 Nov 2026", date(2026, 11, 3)),
        ("Tuesday, November 3, 2026", date(2026, 11, 3)),
        ("03.11.2026", date(2026, 11, 3)),
        ("3. Nov. 2026", date(2026, 11, 3)),
        ("11/12/2026", date(2026, 11, 12)),
    ],
)
def test_the_date_forms_the_exports_use(raw, expected):
    assert csv_cells.parse_date(raw, day_first=False) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("2026-02-30", "is not a date"),
        ("Brand", "is not a date"),
        ("1999-12-31", "not a plausible report date"),
        ("2026-11", "is a month, not a day"),
        ("Nov 2026", "is a month, not a day"),
        ("Nov 1, 2026 - Nov 30, 2026", "covers 01 Nov 2026 – 30 Nov 2026, not one day"),
    ],
)
def test_not_days(raw, problem):
    with pytest.raises(ValueError, match=problem):
        csv_cells.parse_date(raw, day_first=False)


def _rule(values: list[str], **context) -> csv_dates.DateRule:
    evidence = csv_dates.DateEvidence()
    for raw in values:
        evidence.day(raw)
    return evidence.rule(**context)


def test_day_first_follows_the_language_when_no_value_tells():
    values = ["03/11/2026", "04/11/2026"]
    english = _rule(values)
    portuguese = _rule(values, day_column="Data de início", column_is_english=False)
    assert (english.order, portuguese.order) == (None, "dmy")
    # only M/D: the values win over the language
    late = _rule([*values, "11/13/2026"], day_column="Data", column_is_english=False)
    assert late.order == "mdy"


def test_day_first_is_decided_per_file():
    assert _rule(["1/3/2026", "13/3/2026"]).order == "dmy"
    assert _rule(["3/1/2026", "3/13/2026"]).order == "mdy"
    # Nothing tells: no guess (issue 11: a Google Ads row dated 05/11/2026 was imported as
    # some date); the rows say so, unless the platform's export settles it.
    assert _rule(["3/1/2026", "3/2/2026"]).order is None
    assert _rule(["3/1/2026"], platform_order="mdy", platform_label="LinkedIn").order == "mdy"
    assert csv_cells.parse_date("13/3/2026", day_first=True) == date(2026, 3, 13)
