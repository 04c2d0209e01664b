"""Issue 12.6: CSV exports are safe whatever separator the spreadsheet splits on.

Excel in locales whose list separator is `;` reads `a;=2*3;` as three cells and evaluates
`=2*3`. Cells holding `;`, a tab (or a comma, quote, line break) are quoted, and a formula
character after any separator is neutralised too, for readers that ignore the quotes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from ads import services
from ads.models import Platform
from budgets import exports as budget_exports
from budgets.actuals import build_report
from core.exports import iter_csv, write_csv
from core.extensions import db
from tests import factories
from tests.budgets.factories import BudgetFactory, LineFactory

NASTY = ["a;=2*3;", "b\t@SUM(A1)", "c,+1+1", "d|-2+3", 'e; "=cmd"', "f\n=1", "g; =1"]
FORMULA = ("=", "+", "-", "@")


def cells_a_spreadsheet_might_see(line: str) -> list[str]:
    """Every cell a reader could make of `line`: honouring quotes with each separator, and
    ignoring quotes altogether (then stripping the spaces and quotes it may trim)."""
    cells = []
    for sep in (",", ";", "\t", "|"):
        for row in csv.reader(io.StringIO(line), delimiter=sep):
            cells += row
    cells += re.split(r"[,;\t|\r\n]", line)
    return [c.strip(' "') for c in cells]


@pytest.mark.parametrize("text", NASTY)
def test_no_reader_sees_a_formula_in_a_cell(text):
    from core.exports import csv_text

    field = csv_text(text)
    assert not [c for c in cells_a_spreadsheet_might_see(field) if c.startswith(FORMULA)]
    # Read back as the comma CSV it is, the cell keeps what was typed (plus the quote marks).
    (row,) = csv.reader(io.StringIO(field))
    assert row[0].replace("'", "") == text


def test_a_cell_with_a_semicolon_or_a_tab_is_quoted():
    from core.exports import csv_text

    assert csv_text("a;b") == '"a;b"'
    assert csv_text("a\tb") == '"a\tb"'
    assert csv_text("a;=2*3;") == '"a;\'=2*3;"'
    assert csv_text("Q4 - Brand; launch") == '"Q4 - Brand; launch"'  # no separator before "-"


def test_numbers_stay_numbers():
    out = io.StringIO()
    write_csv(out, ["name", "amount"], [["x;y", -12], ["z", 3]])
    assert out.getvalue() == 'name,amount\r\n"x;y",-12\r\nz,3\r\n'
    assert "".join(iter_csv(["name", "amount"], [["x;y", -12]])) == 'name,amount\r\n"x;y",-12\r\n'


def _spend(users):
    campaign = factories.CampaignFactory(name="a;=2*3;", owner=users["marketer"])
    account = services.csv_account(Platform.GOOGLE_ADS.value, "123-456", "EUR", "Search EU")
    pc = services.upsert_platform_campaign(account, "987", "b;@SUM(A1);")
    services.map_manually(pc, campaign.id)
    row = services.FactRow(
        platform_campaign_id=pc.id,
        level="campaign",
        object_id="987",
        day=date(2026, 3, 1),
        attribution_setting="",
        currency="EUR",
        spend_minor=10050,
        impressions=1000,
        clicks=40,
        conversions=4,
        conversion_value_minor=40000,
    )
    services.upsert_facts(account, [row], None)
    db.session.commit()


def test_the_performance_download_is_safe_in_a_semicolon_locale(client, users, login_as):
    _spend(users)
    login_as("finance")
    response = client.get(
        "/performance/export", query_string={"since": "2026-03-01", "until": "2026-03-31"}
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '"b;\'@SUM(A1);"' in text and '"a;\'=2*3;"' in text
    for line in text.splitlines():
        assert not [c for c in cells_a_spreadsheet_might_see(line) if c.startswith(("=", "@"))]


def test_the_budget_export_is_safe_in_a_semicolon_locale(users):
    budget = BudgetFactory(owner=users["finance"], name="Q;=1+1", total_minor=5_000_000)
    campaign = factories.CampaignFactory(
        owner=users["marketer"],
        name="a;=2*3;",
        start_date=budget.start_date,
        end_date=budget.start_date + timedelta(days=20),
        planned_budget_minor=1_000_000,
    )
    LineFactory(
        budget=budget,
        campaign=campaign,
        channel="meta_ads",
        status="approved",
        planned_minor=100_000,
        requested_by=users["marketer"],
    )
    db.session.commit()
    report = build_report([budget], date.today())
    frame = budget_exports.export_frame(report, datetime(2026, 11, 23, 12, tzinfo=UTC))
    text = "".join(budget_exports.iter_csv(frame))
    assert '"a;\'=2*3;"' in text and '"Q;\'=1+1"' in text
    for line in text.splitlines():
        assert not [c for c in cells_a_spreadsheet_might_see(line) if c.startswith("=")]
