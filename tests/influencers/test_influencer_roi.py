"""Influencer ROI against a plain Decimal reference (ratios of sums, per currency), and the
ROI page with its chart."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.extensions import db
from influencers import payments
from influencers.orders import import_orders
from influencers.roi import empty, summarise
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

FOUR = Decimal("0.0001")
DIGITS = {"EUR": 2, "JPY": 0, "BHD": 3}

row = st.fixed_dictionaries(
    {
        "partnership_id": st.integers(1, 4),
        "campaign_id": st.sampled_from([1, 2]),
        "currency": st.sampled_from(sorted(DIGITS)),
        "cost_minor": st.integers(0, 10**10),
        "revenue_minor": st.integers(0, 10**11),
        "impressions": st.integers(0, 10**8),
        "engagements": st.integers(0, 10**6),
        "clicks": st.integers(0, 10**5),
        "conversions": st.integers(0, 10**4),
    }
)


def reference(rows: list[dict], key: str, value: int, currency: str) -> dict:
    picked = [r for r in rows if r[key] == value and r["currency"] == currency]
    scale = Decimal(10) ** DIGITS[currency]
    cost = sum(Decimal(r["cost_minor"]) for r in picked) / scale
    revenue = sum(Decimal(r["revenue_minor"]) for r in picked) / scale
    impressions = sum(r["impressions"] for r in picked)
    engagements = sum(r["engagements"] for r in picked)

    def q(n: Decimal, d: int | Decimal) -> Decimal | None:
        return None if d == 0 else (n / Decimal(d)).quantize(FOUR, rounding=ROUND_HALF_EVEN)

    return {
        "roi": q(revenue - cost, cost),
        "cpm": q(cost * 1000, impressions),
        "cpe": q(cost, engagements),
        "cost_minor": sum(r["cost_minor"] for r in picked),
        "revenue_minor": sum(r["revenue_minor"] for r in picked),
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(row, min_size=1, max_size=30))
def test_roi_cpm_and_cost_per_engagement_are_ratios_of_sums(rows):
    frame = pd.DataFrame(rows)
    for key in ("partnership_id", "campaign_id"):
        out = summarise(frame, by=[key])
        assert len(out) == len({(r[key], r["currency"]) for r in rows})
        for result in out.to_dict("records"):
            expected = reference(rows, key, result[key], result["currency"])
            for name, value in expected.items():
                assert result[name] == value, (key, name, result, expected)


def test_an_empty_frame_summarises_to_nothing():
    out = summarise(empty(), by=["partnership_id"])
    assert out.empty and {"roi", "cpe", "cpm", "cost_minor"} <= set(out.columns)


def test_roi_page_compares_partnerships(users, campaign, client, login_as):
    coordinator = users["coordinator"]
    good = make_partnership(make_influencer("Anna Runs"), campaign, coordinator, "active")
    weak = make_partnership(make_influencer("Ben Lifts"), campaign, coordinator, "active")
    make_partnership(make_influencer("Cara"), campaign, coordinator, "prospect")  # no cost yet
    good.promo_code, weak.promo_code = "ANNA", "BEN"
    d = make_deliverable(good, status="verified")
    d.impressions, d.likes, d.comments, d.shares, d.saves = 200_000, 3_000, 500, 300, 200
    payments.refresh_milestones(good)
    today = date.today().isoformat()
    import_orders(
        (
            "order_id,date,amount,currency,promo_code\n"
            f"1,{today},1500.00,EUR,ANNA\n2,{today},1000.00,EUR,ANNA\n3,{today},400.00,EUR,BEN\n"
        ).encode()
    )
    db.session.commit()
    login_as("viewer")
    response = client.get(f"/influencers/roi?campaign={campaign.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # Anna: cost 1,000, revenue 2,500 → +150 %; 4,000 engagements → 0.25 per engagement;
    # CPM 1,000 × 1000 / 200,000 = 5. Ben: 1,000 → 400: −60 %. Campaign: 2,000 → 2,900: +45 %.
    assert "+150.0%" in page and "0.25" in page and "5.00" in page
    # Cost per engagement and CPM are money, in the partnership's currency.
    anna = page.split('id="roi-partnerships"')[1].split("Anna Runs")[1].split("</tr>")[0]
    assert ">€0.25</td>" in anna and ">€5.00</td>" in anna
    assert "-60.0%" in page and "+45.0%" in page
    assert "Cara" not in page.split('id="roi-partnerships"')[1]
    figure = re.search(r'<script type="application/json" id="figure-roi-EUR">(.*?)</script>', page)
    data = json.loads(figure[1])["data"]
    assert data[0]["x"] == ["Anna Runs", "Ben Lifts"]
    assert data[2]["name"] == "ROI %"
    assert 'data-figure="roi-EUR"' in page and "<script>" not in page  # CSP: no inline code
    detail = client.get(f"/influencers/partnerships/{good.id}").get_data(as_text=True)
    assert "+150.0%" in detail
    returns = detail.split('id="roi"')[1].split("</table>")[0]
    assert ">€0.25</td>" in returns and ">€5.00</td>" in returns
