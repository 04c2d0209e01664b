"""The case from issue 11: an evergreen platform campaign mapped to a campaign brings spend from
before its flight. The budget page used to count it (€74,105 against €5,887 planned, "+1159 %")
while the performance page showed €28,267. Now every page says €28,267 in the flight and
"€45,838.00 outside the flight", and the performance page over other dates points to it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest

from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, spend

TODAY = date.today()
PERIOD = (TODAY - timedelta(days=80), TODAY - timedelta(days=1))
FLIGHT = (TODAY - timedelta(days=70), TODAY + timedelta(days=20))


def _split(total: int, days: list[date]) -> dict[date, int]:
    share, left = divmod(total, len(days))
    return {d: share + (1 if i < left else 0) for i, d in enumerate(days)}


@pytest.fixture
def world(users):
    budget = BudgetFactory(owner=users["finance"], start_date=PERIOD[0], end_date=PERIOD[1])
    campaign = CampaignFactory(
        owner=users["marketer"],
        name="Evergreen",
        start_date=FLIGHT[0],
        end_date=FLIGHT[1],
        status="active",
    )
    line = LineFactory(budget=budget, campaign=campaign, planned_minor=588_700, status="approved")
    before = [PERIOD[0] + timedelta(days=i) for i in range(10)]
    during = [FLIGHT[0] + timedelta(days=i) for i in range(70)]
    spend(campaign, _split(4_583_800, before) | _split(2_826_700, during))
    db.session.commit()
    return budget, campaign, line


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_budget_line_counts_its_flight_and_shows_the_rest_apart(world, client, login_as):
    budget, campaign, line = world
    login_as("finance")
    html = client.get(f"/budgets/{budget.id}").get_data(as_text=True)
    row = _text(html.split(f'id="line-{line.id}"')[1].split("</tr>")[0])
    assert "€28,267.00" in row and "€45,838.00 outside the flight" in row
    assert "€74,105.00" not in row
    finance = _text(client.get("/budgets/finance/").get_data(as_text=True))
    assert "€45,838.00 outside the flight" in finance and "1159" not in finance
    export = client.get(f"/budgets/{budget.id}/export?format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export)))
    lines = [r for r in rows if not r["budget"].startswith("TOTAL")]
    assert sum(Decimal(r["actual"]) for r in lines) == Decimal("28267.00")
    assert sum(Decimal(r["outside_flight"]) for r in lines) == Decimal("45838.00")


def test_the_performance_page_agrees_and_points_to_the_spend_outside(world, client, login_as):
    _, campaign, _ = world
    login_as("marketer")
    # The default window is the flight up to today: the spend before it is pointed to.
    html = client.get(f"/performance/campaigns/{campaign.id}").get_data(as_text=True)
    tiles = html.split('data-scope="currency"')[1].split("</section>")[0]
    assert "€28,267.00" in tiles
    note = _text(html.split('id="outside-elsewhere"')[1].split("</p>")[0])
    assert "Not in these dates: €45,838.00" in note and "outside its flight" in note
    link = re.search(r'href="\?since=([\d-]+)&amp;until=([\d-]+)"', html)
    assert link.groups() == (PERIOD[0].isoformat(), TODAY.isoformat())  # the page's end
    # Over the budget period: all of it, the part outside the flight called out.
    html = client.get(
        f"/performance/campaigns/{campaign.id}?since={PERIOD[0]}&until={PERIOD[1]}"
    ).get_data(as_text=True)
    assert "€74,105.00" in html.split('data-scope="currency"')[1].split("</section>")[0]
    callout = _text(html.split('id="outside-flight"')[1].split("</p>")[0])
    assert "€45,838.00 of the spend shown is outside the flight" in callout
    assert 'id="outside-elsewhere"' not in html
    row = _text(html.split('data-channel="meta_ads">')[1].split("</tr>")[0])
    assert row.split() == ["meta", "ads", "€74,105.00", "€28,267.00", "€45,838.00"]
