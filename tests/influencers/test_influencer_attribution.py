"""Promo codes, UTM links, the orders import (idempotent on order id), deliverable metrics,
and what budgets and the ROI engine read from influencers.api."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.money import Money
from influencers import partnerships as deals
from influencers import payments, workflow
from influencers.api import attributed_revenue, influencer_costs
from influencers.models import AttributedOrder
from influencers.orders import import_metrics, import_orders
from influencers.services import InfluencerError
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

TODAY = date.today().isoformat()


def orders_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AttributedOrder))


@pytest.fixture
def coded(deal):
    p, d = deal
    deals.set_promo_code(p, "anna10")
    d.utm_content = "reel-anna"
    db.session.commit()
    return p, d


def test_promo_codes_are_unique(users, campaign, coded):
    p, _ = coded
    assert p.promo_code == "ANNA10"
    other = make_partnership(make_influencer("Ben Lifts"), campaign, users["coordinator"])
    with pytest.raises(InfluencerError, match="already used"):
        deals.set_promo_code(other, "Anna10")
    with pytest.raises(InfluencerError, match="3–32 letters"):
        deals.set_promo_code(other, "no spaces!")
    generated = deals.set_promo_code(other)
    assert generated.startswith("BENLIFTS") and len(generated) == 12


def test_utm_link_builder(deal):
    p, d = deal
    assert p.utm_campaign == "spring-launch-anna-runs"
    workflow.save_tracking(
        d,
        {
            "landing_url": "https://shop.example.com/airrun?ref=home&utm_source=old",
            "utm_source": "Instagram",
            "utm_medium": "influencer",
            "utm_content": "Reel #1",
        },
    )
    assert workflow.tracking_link(d) == (
        "https://shop.example.com/airrun?ref=home&utm_source=instagram&utm_medium=influencer"
        "&utm_campaign=spring-launch-anna-runs&utm_content=reel-1"
    )
    with pytest.raises(InfluencerError, match="http"):
        workflow.save_tracking(d, {"landing_url": "javascript:alert(1)", "utm_source": "x"})


ORDERS = (
    "order_id,date,amount,currency,promo_code,utm_campaign,utm_content\n"
    f"A-1,{TODAY},120.50,EUR,anna10,,\n"
    f"A-2,{TODAY},80.00,EUR,,spring-launch-anna-runs,reel-anna\n"
    f"A-3,{TODAY},99.99,EUR,UNKNOWN,,\n"
    f"A-4,yesterday,10,EUR,ANNA10,,\n"
    f"A-5,{TODAY},12.345,EUR,ANNA10,,\n"
    f"A-6,{TODAY},5,EURO,ANNA10,,\n"
    f",{TODAY},5,EUR,ANNA10,,\n"
    f"A-1,{TODAY},120.50,EUR,ANNA10,,\n"
    f"A-7,{TODAY},-20,EUR,ANNA10,,\n"
)


def test_orders_are_attributed_and_the_same_file_twice_changes_nothing(coded):
    p, d = coded
    result = import_orders(ORDERS.encode(), "orders.csv")
    db.session.commit()
    assert (result.created, result.rejected, result.unattributed) == (2, 6, 1)
    problems = {(e.row, e.column): e.problem for e in result.errors}
    assert "not attributed" in problems[(4, "promo_code")]
    assert "not a date" in problems[(5, "date")]
    assert "2 decimal places" in problems[(6, "amount")]
    assert "ISO 4217" in problems[(7, "currency")]
    assert "order id is missing" in problems[(8, "order_id")]
    assert "already on row 2" in problems[(9, "order_id")]
    assert "refunds" in problems[(10, "amount")]
    first = db.session.scalar(select(AttributedOrder).where(AttributedOrder.order_ref == "A-1"))
    second = db.session.scalar(select(AttributedOrder).where(AttributedOrder.order_ref == "A-2"))
    assert (first.partnership_id, first.attributed_by, first.amount_minor) == (p.id, "code", 12050)
    assert (second.attributed_by, second.deliverable_id) == ("utm", d.id)

    again = import_orders(ORDERS.encode(), "orders.csv")
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert orders_count() == 2

    corrected = ORDERS.replace("A-2,", "A-2,", 1).replace("80.00", "85.00")
    result = import_orders(corrected.encode())
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert orders_count() == 2


def test_orders_file_problems(coded):
    assert "empty" in import_orders(b"").problem
    assert "Missing columns: amount, currency" in import_orders(b"order_id,date\n1,2\n").problem
    assert "promo_code or a utm_campaign" in import_orders(b"id,date,amount,currency\n").problem
    utf16 = (f"order_id;date;amount;currency;promo_code\nZ-1;{TODAY};1.00;EUR;ANNA10\n").encode(
        "utf-16"
    )
    assert import_orders(utf16).created == 1


def test_orders_page_and_cli(app, coded, client, login_as, tmp_path):
    login_as("coordinator")
    response = client.post(
        "/influencers/orders/import",
        data={"file": (io.BytesIO(ORDERS.encode()), "orders.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-count="created">2<' in page
    assert "not attributed: no partnership has promo code UNKNOWN" in page
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    result = app.test_cli_runner().invoke(args=["influencers", "import-orders", str(path)])
    assert (
        result.exit_code == 0 and "0 created, 0 updated, 2 unchanged, 6 rejected" in result.output
    )
    assert "row 5, date: “yesterday” is not a date" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = app.test_cli_runner().invoke(args=["influencers", "import-orders", str(empty)])
    assert result.exit_code == 1


def test_metrics_by_hand_and_by_csv(deal, client, login_as):
    p, d = deal
    workflow.save_metrics(d, {"impressions": "12.5k", "likes": "300", "revenue": "99.90"})
    assert (d.impressions, d.likes, d.comments, d.revenue_minor) == (12_500, 300, None, 9_990)
    with pytest.raises(InfluencerError):
        workflow.save_metrics(d, {"likes": "-3"})
    data = (
        "deliverable_id,impressions,likes,comments,revenue\n"
        f"{d.id},20000,,40,\n999999,1,1,1,1\n{d.id},abc,,,\n"
    )
    result = import_metrics(data.encode())
    assert (result.updated, result.rejected) == (1, 2)
    assert (d.impressions, d.likes, d.comments, d.revenue_minor) == (20_000, 300, 40, 9_990)
    db.session.commit()
    login_as("marketer")
    response = client.post(f"/influencers/deliverables/{d.id}/metrics", data={"likes": "1"})
    assert response.status_code == 403


# --- influencers.api ------------------------------------------------------------------------


def test_costs_add_up_to_the_fee_and_follow_the_payments(users, campaign):
    p = make_partnership(make_influencer("C"), campaign, users["coordinator"], fee_minor=100_001)
    d = make_deliverable(p)
    make_partnership(make_influencer("Prospect"), campaign, users["coordinator"])  # no cost
    assert influencer_costs([campaign.id]) == []
    p.status = "contracted"
    payments.refresh_milestones(p)
    rows = influencer_costs([campaign.id])
    assert sum(r.amount_minor for r in rows) == 100_001
    assert [(r.state, r.amount_minor) for r in rows] == [("payable", 50_000), ("committed", 50_001)]
    payments.pay(p.milestones[0], date.today() - timedelta(days=1), "T1", users["coordinator"])
    p.status = "active"
    d.status = "verified"
    payments.refresh_milestones(p)
    rows = influencer_costs()
    assert [(r.state, r.day) for r in rows] == [
        ("paid", date.today() - timedelta(days=1)),
        ("payable", campaign.start_date),  # gated on every deliverable: no own due date
    ]
    assert sum(r.amount_minor for r in rows) == 100_001
    deals.transition(p, "cancelled")
    assert [(r.state, r.amount_minor) for r in influencer_costs()] == [("paid", 50_000)]
    assert influencer_costs([campaign.id + 1]) == []


def test_a_partnership_without_milestones_is_one_committed_cost(users, campaign):
    p = make_partnership(
        make_influencer("Solo"), campaign, users["coordinator"], "contracted", plan="custom"
    )
    [row] = influencer_costs([campaign.id])
    assert (row.state, row.amount_minor, row.currency, row.day) == (
        "committed",
        p.fee_minor,
        "EUR",
        campaign.start_date,
    )


def test_attributed_revenue_per_day_and_currency(coded, campaign):
    p, _ = coded
    import_orders(ORDERS.encode())
    extra = f"order_id,date,amount,currency,promo_code\nU-1,{TODAY},10.00,USD,ANNA10\n"
    import_orders(extra.encode())
    rows = attributed_revenue([campaign.id])
    assert {(r.currency, r.revenue_minor, r.orders) for r in rows} == {
        ("EUR", 20_050, 2),
        ("USD", 1_000, 1),
    }
    assert all(r.partnership_id == p.id and r.day == date.today() for r in rows)
    assert attributed_revenue([campaign.id + 1]) == []
    assert Money(sum(r.revenue_minor for r in rows if r.currency == "EUR"), "EUR").amount == (
        Money.of("200.50", "EUR").amount
    )
