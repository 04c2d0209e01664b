"""Demo ad data: a sandbox Meta account, connected and synced for real (never Meta itself)."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import requests
from flask import current_app
from sqlalchemy import select

from ads import services, sync
from ads.models import AdAccount
from ads.sandbox import DEFAULT_TOKEN
from analytics.services import refresh_goals
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.jobs import running_here

log = logging.getLogger(__name__)
DEMO_ACCOUNT = "act_1001"
LIVE = (CampaignStatus.ACTIVE.value, CampaignStatus.PAUSED.value, CampaignStatus.COMPLETED.value)


def _sandbox_url() -> str | None:
    url = current_app.config["META_GRAPH_URL"]
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None  # demo data never goes near the real Graph API
    try:
        with requests.Session() as session:
            session.trust_env = False
            session.get(f"{url}/__sandbox/stats", timeout=3)
    except requests.RequestException:
        return None
    return url


def seed_ads(users) -> dict[str, int]:
    if _sandbox_url() is None:
        return {"ad accounts": 0}
    account = db.session.scalar(select(AdAccount).where(AdAccount.external_id == DEMO_ACCOUNT))
    if account is None:
        account = services.connect_meta_account(
            DEMO_ACCOUNT, DEFAULT_TOKEN, name="Stride EU (sandbox)", currency="EUR"
        )
        account.backfill_days = 120
    db.session.commit()
    with running_here():  # the demo's numbers need the sync done, not handed to a thread
        run = sync.start_sync(account.id, origin="demo")
    if run.status != "succeeded":
        log.warning("demo sync did not finish: %s", run.error)
        return {"ad accounts": 1, "facts synced": 0}
    # Point every platform campaign at a running demo campaign, so ROI pages have numbers.
    account = db.session.get(AdAccount, account.id)
    live = db.session.scalars(
        select(Campaign)
        .where(Campaign.status.in_(LIVE), Campaign.currency == account.currency)
        .order_by(Campaign.id)
    ).all()
    for i, pc in enumerate(account.platform_campaigns):
        mapped = db.session.get(Campaign, pc.campaign_id) if pc.campaign_id else None
        if live and (mapped is None or mapped.status not in LIVE):
            services.map_manually(pc, live[i % len(live)].id)
    db.session.flush()
    refresh_goals([c.id for c in live])
    db.session.commit()  # later seeders may roll back their own work; keep this part
    return {"ad accounts": 1, "facts synced": run.rows_inserted + run.rows_unchanged}
