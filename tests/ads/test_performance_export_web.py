"""The performance export from the browser (Ad accounts and Finance pages): the CLI's rows as
a CSV or XLSX download, refused with a message when the period is wrong or empty."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from tests.ads.test_performance_export import _seed

URL = "/performance/export"
MARCH = {"since": "2026-03-01", "until": "2026-03-31"}


@pytest.mark.parametrize("role", ["finance", "marketer", "admin"])
def test_csv_download_matches_the_cli_rows(client, users, login_as, role):
    _seed(users)
    login_as(role)
    response = client.get(URL, query_string=MARCH | {"format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="performance-2026-03-01-2026-03-31.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["platform"] for r in rows] == ["google_ads", "TOTAL"]
    assert rows[0]["platform_campaign_name"].startswith("'=")  # neutralised, not a formula
    assert (Decimal(rows[0]["spend"]), Decimal(rows[0]["roas"])) == (
        Decimal("201.00"),
        Decimal("3.9801"),
    )
    assert rows[1]["currency"] == "EUR" and Decimal(rows[1]["spend"]) == Decimal("201.00")


def test_xlsx_download_keeps_numbers_typed(client, users, login_as):
    _seed(users)
    login_as("finance")
    response = client.get(URL, query_string=MARCH | {"format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(
        "performance-2026-03-01-2026-03-31.xlsx"
    )
    data = response.data
    response.close()  # the temporary file behind send_file
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert isinstance(first["spend"], float | int) and first["spend"] == pytest.approx(201.0)
    assert first["flightdeck_campaign"] == "Spring Launch"


@pytest.mark.parametrize(
    ("args", "message", "back"),
    [
        ({"since": "2026-03-31", "until": "2026-03-01"}, "on or before the end date", "ads"),
        ({"since": "", "until": "2026-03-01"}, "Pick both dates", "ads"),
        ({"since": "2025-01-01", "until": "2025-01-31"}, "nothing to export", "finance"),
        (MARCH | {"format": "pdf"}, "Choose CSV or XLSX", "finance"),
    ],
)
def test_a_wrong_or_empty_period_is_refused_with_a_message(
    client, users, login_as, args, message, back
):
    _seed(users)
    login_as("finance")
    response = client.get(URL, query_string={"format": "csv", "back": back} | args)
    assert response.status_code == 302
    page = "/budgets/finance/" if back == "finance" else "/ads/"
    assert response.headers["Location"].endswith(f"{page}#performance-export")
    html = client.get(page).get_data(as_text=True)
    assert message in html and 'id="performance-export"' in html


def test_viewers_and_coordinators_cannot_export_and_see_no_form(client, users, login_as):
    _seed(users)
    for role in ("viewer", "coordinator"):
        login_as(role)
        assert client.get(URL, query_string=MARCH).status_code == 403
        assert 'id="performance-export"' not in client.get("/ads/").get_data(as_text=True)
        client.post("/logout")
