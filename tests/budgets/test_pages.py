"""Page flows: monthly phasing, the split tool, reallocation requests, FX rates in the UI,
the history page, the demo seed."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from ads.models import PlatformCampaign, SpendFact
from budgets.demo import seed_budgets
from budgets.models import AllocationLine, Budget, FxRate, Reallocation
from budgets.phasing import line_months
from core.extensions import db
from core.models import Role
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def setup(users):
    budget = BudgetFactory(owner=users["finance"], total_minor=5_000_000)
    campaign = CampaignFactory(
        owner=users["marketer"],
        name="Boots",
        channels_csv=",meta_ads,influencers,other,",
        start_date=budget.start_date,
        end_date=budget.end_date,
    )
    line = LineFactory(
        budget=budget, campaign=campaign, planned_minor=100_001, requested_by=users["marketer"]
    )
    db.session.commit()
    return budget, campaign, line


def test_phasing_by_percent_amounts_and_clear(client, login_as, setup):
    login_as("marketer")
    budget, _, line = setup
    months = [f"month-{m:%Y-%m}" for m in line_months(line)]
    assert len(months) == 3
    client.post(
        f"/budgets/lines/{line.id}/phasing",
        data={"mode": "percent", months[0]: "50", months[1]: "25", months[2]: "25"},
    )
    db.session.expire_all()
    assert [p.planned_minor for p in db.session.get(AllocationLine, line.id).phases] == [
        50_001,
        25_000,
        25_000,
    ]
    wrong = client.post(
        f"/budgets/lines/{line.id}/phasing",
        data={"mode": "amounts", months[0]: "1000", months[1]: "1"},
    )
    assert wrong.status_code == 400 and "not the line's €1,000.01" in page(wrong)
    # Beside the months it is about, with what was typed kept.
    months_error = page(wrong).split('data-error-for="months">')[1].split("</p>")[0]
    assert "not the line's €1,000.01" in months_error
    assert f'name="{months[1]}" value="1"' in page(wrong)
    client.post(f"/budgets/lines/{line.id}/phasing", data={"mode": "clear"})
    db.session.expire_all()
    assert db.session.get(AllocationLine, line.id).phases == []


def test_split_tool_creates_exact_draft_lines_all_or_nothing(client, login_as, users, setup):
    login_as("marketer")
    budget, campaign, line = setup
    other = CampaignFactory(
        owner=users["marketer"],
        name="Sandals",
        channels_csv=",meta_ads,influencers,",
        start_date=budget.start_date,
        end_date=budget.end_date,
    )
    db.session.commit()
    form = {
        "amount": "1000.00",
        "mode": "weights",
        "campaign-0": str(campaign.id),
        "channel-0": "influencers",
        "weight-0": "1",
        "campaign-1": str(other.id),
        "channel-1": "meta_ads",
        "weight-1": "1",
        "campaign-2": str(other.id),
        "channel-2": "influencers",
        "weight-2": "1",
        "campaign-3": str(other.id),
        "channel-3": "other",
        "weight-3": "0",
    }
    assert client.post(f"/budgets/{budget.id}/split", data=form).status_code == 302
    parts = db.session.scalars(
        select(AllocationLine.planned_minor)
        .where(AllocationLine.id != line.id)
        .order_by(AllocationLine.id)
    ).all()
    assert parts == [33_334, 33_333, 33_333]  # zero weight → no line; sum exact
    again = client.post(
        f"/budgets/{budget.id}/split", data={**form, "channel-3": "google_ads", "weight-3": "1"}
    )
    assert again.status_code == 400  # a duplicate line: nothing of this split is created
    assert db.session.scalar(select(func.count(AllocationLine.id))) == 4
    shown = unescape(again.get_data(as_text=True))
    assert re.search(r'<p class="error" role="alert" data-error-for="rows">[^<]*already has', shown)


def test_split_tool_says_what_is_missing_beside_the_field(client, login_as, setup):
    login_as("marketer")
    budget, _, _ = setup
    response = client.post(f"/budgets/{budget.id}/split", data={"amount": "", "mode": "weights"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    amount = html.split('<label for="amount">')[1].split("</div>")[0]
    assert 'data-error-for="amount">Enter an amount, e.g. 12000 or 12,000.50.</p>' in amount
    assert "&#39;&#39; is not a number" not in html and "'' is not a number" not in html
    response = client.post(f"/budgets/{budget.id}/split", data={"amount": "500", "mode": "weights"})
    assert 'data-error-for="rows">Add at least one line to split the amount across.' in (
        response.get_data(as_text=True)
    )


def test_reallocation_request_and_idor(client, login_as, users, setup):
    budget, campaign, line = setup
    db.session.execute(AllocationLine.__table__.update().values(status="approved"))
    target = LineFactory(
        budget=budget,
        campaign=campaign,
        channel="influencers",
        planned_minor=5,
        status="approved",
        requested_by=users["marketer"],
    )
    theirs = LineFactory(
        budget=budget,
        channel="meta_ads",
        status="approved",
        campaign=CampaignFactory(owner=UserFactory(role="marketer")),
    )
    db.session.commit()
    login_as("marketer")
    form = client.get(f"/budgets/{budget.id}/reallocations/new")
    assert f'value="{theirs.id}"' not in page(form)
    stolen = client.post(
        f"/budgets/{budget.id}/reallocations/new",
        data={
            "from_line_id": str(theirs.id),
            "to_line_id": str(target.id),
            "amount": "1",
            "reason": "mine now",
        },
    )
    assert stolen.status_code == 403
    ok = client.post(
        f"/budgets/{budget.id}/reallocations/new",
        data={
            "from_line_id": str(line.id),
            "to_line_id": str(target.id),
            "amount": "100",
            "reason": "Creators convert better",
        },
    )
    assert ok.status_code == 302
    move = db.session.scalar(select(Reallocation))
    assert (move.amount_minor, move.status, move.requested_by_id) == (
        10_000,
        "pending",
        users["marketer"].id,
    )


def test_fx_rates_in_the_ui(client, login_as):
    login_as("finance")
    bad = client.post(
        "/budgets/fx/",
        data={"day": "2026-11-02", "base_currency": "USD", "quote_currency": "EUR", "rate": "-1"},
    )
    assert bad.status_code == 400 and "above 0" in page(bad)
    client.post(
        "/budgets/fx/",
        data={
            "day": "2026-11-02",
            "base_currency": "USD",
            "quote_currency": "EUR",
            "rate": "0.9215",
            "source": "ECB",
        },
    )
    listing = page(client.get("/budgets/fx/?base=USD"))
    assert "0.9215" in listing and "ECB" in listing
    upload = client.post(
        "/budgets/fx/import",
        data={
            "file": (
                io.BytesIO(
                    b"date,from,to,rate\n2026-11-03,USD,EUR,0.93\n2026-11-04,USD,EUR,oops\n"
                ),
                "r.csv",
            )
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400 and "Nothing was imported" in page(upload)
    assert re.search(r"<td>3</td><td>rate</td>", page(upload))
    assert db.session.scalar(select(func.count(FxRate.id))) == 1
    good = client.post(
        "/budgets/fx/import",
        data={"file": (io.BytesIO(b"date,from,to,rate\n2026-11-03,USD,EUR,0.93\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert db.session.scalar(select(func.count(FxRate.id))) == 2


def test_history_page_shows_money_changes_with_comments(client, login_as, setup):
    budget, _, line = setup
    login_as("marketer")
    client.post(
        f"/budgets/lines/{line.id}/edit",
        data={
            "campaign_id": str(line.campaign_id),
            "channel": "meta_ads",
            "planned": "2000",
            "comment": "Doubled for launch week",
        },
    )
    client.post(f"/budgets/lines/{line.id}/submit")
    client.post("/logout")
    login_as("finance")
    client.post(f"/budgets/lines/{line.id}/approve", data={"comment": "OK for Q"})
    history = page(client.get(f"/budgets/{budget.id}/history"))
    assert "planned</code>: €1,000.01 → €2,000.00" in history
    assert "“Doubled for launch week”" in history and "“Approved: OK for Q”" in history


def test_demo_seed_is_idempotent_and_covers_each_pacing_state(users):
    from budgets.actuals import build_report
    from campaigns.demo import seed_campaigns

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    first = seed_budgets(roles)
    assert first["budgets created"] == 4 and first["allocation lines"] >= 14
    assert seed_budgets(roles) == {"fx rates": 0, "budgets created": 0, "allocation lines": 0}
    currencies = set(db.session.scalars(select(Budget.currency)))
    assert currencies == {"EUR", "USD", "GBP"}
    open_budgets = list(db.session.scalars(select(Budget).where(Budget.status == "open")))
    states = set(build_report(open_budgets, date.today()).paced()["state"])
    # Flights sit relative to today; in a quarter's first days little has been spent yet.
    if (date.today() - open_budgets[0].start_date).days >= 12:
        assert {"on_track", "under_pacing", "over_pacing", "overspent"} <= states
    statuses = set(db.session.scalars(select(AllocationLine.status)))
    assert {"approved", "submitted", "locked"} <= statuses
    from budgets import api

    boots = db.session.scalar(
        select(AllocationLine.campaign_id).where(
            AllocationLine.channel == "influencers", AllocationLine.status == "approved"
        )
    )
    assert (
        api.influencer_allocation(boots, "EUR") is not None
        or api.influencer_allocation(boots, "USD") is not None
    )


def test_demo_spend_comes_with_results_so_performance_pages_show_a_roas(users, client, login_as):
    from analytics.roi import kpis
    from analytics.services import facts_frame
    from campaigns.demo import seed_campaigns

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_budgets(roles)
    db.session.commit()
    spent = set(
        db.session.scalars(
            select(PlatformCampaign.campaign_id)
            .join(SpendFact, SpendFact.platform_campaign_id == PlatformCampaign.id)
            .where(SpendFact.spend_minor > 0)
        )
    )
    assert spent
    for campaign_id in spent:
        for tile in kpis(facts_frame(campaign_ids=[campaign_id])):
            assert tile.conversions > 0 and tile.roas is not None and tile.roas > 1, campaign_id
    login_as("marketer")
    html = client.get(f"/performance/campaigns/{min(spent)}").get_data(as_text=True)
    assert 'data-kpi="roas">0.00×' not in html and 'data-kpi="cpa">—' not in html
