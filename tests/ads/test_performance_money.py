"""The performance page shows every money ratio as money: CPA per channel in the channel's
currency, rounded to its minor unit, and counts with thousands separators."""

from __future__ import annotations

from datetime import date, timedelta

from ads import services
from core.extensions import db
from tests import factories

START = date(2026, 3, 1)


def test_cpa_per_channel_is_money_and_conversions_are_grouped(users, client, login_as):
    campaign = factories.CampaignFactory(
        owner=users["marketer"], currency="EUR", start_date=START, end_date=START + timedelta(9)
    )
    db.session.flush()
    account = services.connect_meta_account("act_1001", "EAAB-token-0123456789", currency="EUR")
    pc = services.upsert_platform_campaign(account, "1", "Spring")
    services.map_manually(pc, campaign.id)
    db.session.flush()
    rows = [
        services.FactRow(
            platform_campaign_id=pc.id,
            level="campaign",
            object_id=pc.external_id,
            day=START + timedelta(days=d),
            attribution_setting="",
            currency="EUR",
            spend_minor=12345,
            impressions=100_000,
            clicks=500,
            purchases=300,
            conversions=300,
            conversion_value_minor=50_000,
        )
        for d in range(4)
    ]
    services.upsert_facts(account, rows, None)
    db.session.commit()

    login_as("viewer")
    response = client.get(
        f"/performance/campaigns/{campaign.id}?since={START}&until={START + timedelta(3)}"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    channel_row = html.split('id="by-channel"')[1].split("</tbody>")[0]
    # €493.80 for 1,200 conversions: CPA €0.4115, shown €0.41 (never the raw 0.4115).
    assert '<td class="num">€493.80</td>' in channel_row
    assert '<td class="num">€0.41</td>' in channel_row
    assert "0.4115" not in channel_row
    assert '<td class="num">1,200</td>' in channel_row
    assert 'data-kpi="cpa">€0.41<' in html  # the tile agrees
