"""Fact upserts, restatements, campaign mapping and encrypted tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import func, select

from ads import services
from ads.models import AdAccount, PlatformCampaign, Restatement, SpendFact
from core.extensions import db
from core.models import AuditEntry
from tests import factories

TOKEN = "EAAB-sandbox-secret-token-123456"


def _rows(pc_id: int, days: int = 3, spend: int = 12000) -> list[services.FactRow]:
    start = date(2026, 3, 1)
    return [
        services.FactRow(
            platform_campaign_id=pc_id,
            level="ad",
            object_id=f"ad-{n}",
            day=start + timedelta(days=d),
            attribution_setting="7d_click_1d_view",
            currency="EUR",
            spend_minor=spend + d,
            impressions=1000,
            clicks=20,
            purchases=2,
            conversions=2,
            conversion_value_minor=30000,
        )
        for d in range(days)
        for n in range(2)
    ]


def _account() -> tuple[AdAccount, PlatformCampaign]:
    account = services.connect_meta_account("act_1001", TOKEN, name="Stride EU", currency="EUR")
    pc = services.upsert_platform_campaign(account, "c-1", "Prospecting")
    db.session.commit()
    return account, pc


def test_upsert_is_idempotent_and_detects_restatements(app):
    account, pc = _account()
    rows = _rows(pc.id)
    first = services.upsert_facts(account, rows, None)
    db.session.commit()
    assert (first.inserted, first.updated, first.unchanged) == (6, 0, 0)
    again = services.upsert_facts(account, rows, None)
    db.session.commit()
    assert (again.inserted, again.updated, again.unchanged, again.restated) == (0, 0, 6, 0)
    assert db.session.scalar(select(func.count(SpendFact.id))) == 6

    restated = [replace(r, spend_minor=13140) if r.day == date(2026, 3, 3) else r for r in rows]
    third = services.upsert_facts(account, restated, None)
    db.session.commit()
    assert (third.inserted, third.updated, third.restated) == (0, 2, 2)
    changes = db.session.scalars(select(Restatement).order_by(Restatement.object_id)).all()
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("spend_minor", 12002, 13140),
        ("spend_minor", 12002, 13140),
    ]
    total = db.session.scalar(select(func.sum(SpendFact.spend_minor)))
    assert total == 2 * (12000 + 12001 + 13140)


def test_duplicate_rows_in_one_batch_do_not_duplicate_facts(app):
    account, pc = _account()
    rows = _rows(pc.id, days=1)
    counts = services.upsert_facts(account, rows + rows, None)
    db.session.commit()
    assert counts.inserted == 2
    assert db.session.scalar(select(func.count(SpendFact.id))) == 2


def _tuples(rows: list[services.FactRow]) -> list[tuple]:
    return [tuple(getattr(r, name) for name in services.FACT_FIELDS) for r in rows]


def test_store_facts_loads_a_new_page_and_compares_when_told_wrongly(app):
    account, pc = _account()
    rows = _rows(pc.id)
    march = (date(2026, 3, 1), date(2026, 3, 3))
    assert not services.facts_exist(account, *march)
    first = services.store_facts(account, _tuples(rows), None, all_new=True)  # COPY on PostgreSQL
    db.session.commit()
    assert (first.inserted, first.updated) == (6, 0)
    assert services.facts_exist(account, *march)
    assert not services.facts_exist(account, date(2026, 3, 4), date(2026, 3, 31))

    # "All new" was wrong: the unique key stops the COPY and the page is compared instead.
    changed = [
        replace(r, spend_minor=r.spend_minor + 100) if r.object_id == "ad-0" else r for r in rows
    ]
    again = services.store_facts(account, _tuples(changed), None, all_new=True)
    db.session.commit()
    assert (again.inserted, again.updated, again.unchanged, again.restated) == (0, 3, 3, 3)
    assert db.session.scalar(select(func.count(SpendFact.id))) == 6
    total = db.session.scalar(select(func.sum(SpendFact.spend_minor)))
    assert total == sum(r.spend_minor for r in changed)
    assert db.session.scalar(select(func.count(Restatement.id))) == 3


def test_store_facts_with_a_key_twice_in_a_new_page_keeps_the_last(app):
    account, pc = _account()
    rows = _rows(pc.id, days=1)
    counts = services.store_facts(
        account, _tuples([*rows, replace(rows[0], spend_minor=999)]), None, all_new=True
    )
    db.session.commit()
    assert counts.inserted == 2
    stored = db.session.scalars(select(SpendFact).order_by(SpendFact.object_id)).all()
    assert [(f.object_id, f.spend_minor) for f in stored] == [("ad-0", 999), ("ad-1", 12000)]


def test_mapping_by_tag_then_name_and_manual_override_wins(app, users):
    tagged = factories.CampaignFactory(name="Spring Launch", owner=users["marketer"])
    named = factories.CampaignFactory(name="Retargeting EU", owner=users["marketer"])
    db.session.commit()
    account, _ = _account()
    by_tag = services.upsert_platform_campaign(account, "c-2", f"Spring | Reels [FD-{tagged.id}]")
    by_name = services.upsert_platform_campaign(account, "c-3", "retargeting eu")
    nothing = services.upsert_platform_campaign(account, "c-4", "Brand awareness test")
    assert (by_tag.campaign_id, by_tag.mapping_source) == (tagged.id, "tag")
    assert (by_name.campaign_id, by_name.mapping_source) == (named.id, "name")
    assert (nothing.campaign_id, nothing.mapping_source) == (None, "none")

    services.map_manually(nothing, tagged.id)
    db.session.commit()
    # A later sync with the same name keeps the manual choice.
    again = services.upsert_platform_campaign(account, "c-4", "Brand awareness test")
    assert (again.campaign_id, again.mapping_source) == (tagged.id, "manual")


def test_token_is_encrypted_at_rest_and_never_audited(app):
    account, _ = _account()
    stored = db.session.scalar(select(AdAccount.token_encrypted).where(AdAccount.id == account.id))
    assert TOKEN not in stored
    assert services.account_token(account) == TOKEN
    for entry in db.session.scalars(select(AuditEntry)):
        assert TOKEN not in str(entry.changes)
        assert "token_encrypted" not in entry.changes


def test_connect_form_keeps_the_token_secret(client, login_as):
    login_as("marketer")
    bad = client.post("/ads/connect", data={"account_id": "12ab", "token": TOKEN})
    assert bad.status_code == 400
    assert "act_1234567890" in bad.get_data(as_text=True)
    assert TOKEN not in bad.get_data(as_text=True)
    ok = client.post(
        "/ads/connect",
        data={"account_id": "act_555", "token": TOKEN, "currency": "EUR", "backfill_days": "30"},
    )
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "stored, encrypted" in page
    assert TOKEN not in page


def test_unmapped_spend_is_visible(client, login_as):
    account, pc = _account()
    services.upsert_facts(account, _rows(pc.id, days=1, spend=5000), None)
    db.session.commit()
    login_as("viewer")
    page = client.get("/ads/").get_data(as_text=True)
    assert "not mapped" in page
    assert "€100.00" in page  # 2 ads × 50.00
