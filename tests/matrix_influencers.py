"""Route × role expectations for the influencers blueprint (see tests/test_route_matrix.py),
and the small builders the influencer tests share."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core.extensions import db

ROLES = ("anonymous", "admin", "marketer", "finance", "coordinator", "viewer")
LOGIN = 302


@dataclass(frozen=True)
class Expect:
    method: str
    path: str
    statuses: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)


def by_role(default: int, anonymous: int = LOGIN, **overrides: int) -> dict[str, int]:
    result = dict.fromkeys(ROLES, default)
    result["anonymous"] = anonymous
    result.update(overrides)
    return result


READ = by_role(200)
COORD = by_role(403, admin=200, coordinator=200)
COORD_POST = by_role(403, admin=302, coordinator=302)
P = "/influencers/partnerships/{inf_partnership_id}"
D = "/influencers/deliverables/{inf_deliverable_id}"
M = "/influencers/milestones/{inf_milestone_id}"

EXPECTED: dict[str, Expect] = {
    "influencers.index": Expect("GET", "/influencers/", READ),
    "influencers.detail": Expect("GET", "/influencers/{inf_influencer_id}", READ),
    "influencers.create": Expect("GET", "/influencers/new", COORD),
    "influencers.edit": Expect("GET", "/influencers/{inf_influencer_id}/edit", COORD),
    "influencers.import_upload": Expect("GET", "/influencers/import", COORD),
    # The upload belongs to the coordinator: only they (and admins) may preview it.
    "influencers.import_preview": Expect("GET", "/influencers/import/{inf_upload_id}", COORD),
    "influencers.import_status": Expect("GET", "/influencers/import/{inf_upload_id}/status", COORD),
    "influencers.dashboard": Expect("GET", "/influencers/dashboard", READ),
    "influencers.partnerships": Expect("GET", "/influencers/partnerships", READ),
    "influencers.pipeline": Expect(
        "GET", "/influencers/campaigns/{inf_campaign_id}/pipeline", READ
    ),
    "influencers.partnership_new": Expect("GET", "/influencers/partnerships/new", COORD),
    "influencers.partnership_detail": Expect("GET", P, READ),
    "influencers.partnership_edit": Expect("GET", P + "/edit", COORD),
    "influencers.partnership_status": Expect(
        "POST", P + "/status", COORD_POST, {"to": "negotiating"}
    ),
    "influencers.promo_code": Expect("POST", P + "/promo-code", COORD_POST, {"code": ""}),
    # The sample's half/half plan already covers the fee: refused beside the share (400).
    "influencers.milestone_add": Expect(
        "POST",
        P + "/milestones",
        by_role(403, admin=400, coordinator=400),
        {"label": "Bonus", "share": "10", "condition": "contract"},
    ),
    "influencers.milestone_delete": Expect("POST", M + "/delete", COORD_POST),
    # The sample partnership is a prospect, so nothing is payable yet: the page again (400,
    # the reason beside the payment form).
    "influencers.milestone_pay": Expect(
        "POST",
        M + "/pay",
        by_role(403, admin=400, coordinator=400),
        {"paid_on": "2026-01-05", "reference": "INV-1"},
    ),
    "influencers.payment_list": Expect("GET", "/influencers/payments", by_role(200, viewer=403)),
    "influencers.deliverable_new": Expect("GET", P + "/deliverables/new", COORD),
    "influencers.deliverable_detail": Expect("GET", D, READ),
    "influencers.deliverable_edit": Expect("GET", D + "/edit", COORD),
    # The sample partnership is a prospect, so every step is refused: shown on the page again
    # (400, the message beside the form); finance and viewers never get in.
    "influencers.deliverable_step": Expect(
        "POST",
        D + "/step",
        by_role(403, admin=400, marketer=400, coordinator=400),
        {"to": "approved"},
    ),
    "influencers.deliverable_metrics": Expect(
        "POST", D + "/metrics", COORD_POST, {"impressions": "1000"}
    ),
    "influencers.deliverable_tracking": Expect(
        "POST",
        D + "/tracking",
        COORD_POST,
        {
            "landing_url": "https://shop.example.com/",
            "utm_source": "instagram",
            "utm_medium": "influencer",
            "utm_content": "reel-1",
        },
    ),
    "influencers.orders_import": Expect("GET", "/influencers/orders/import", COORD),
    "influencers.metrics_import": Expect("GET", "/influencers/deliverables/metrics-import", COORD),
    "influencers.roi": Expect("GET", "/influencers/roi", READ),
}


# --- builders -------------------------------------------------------------------------------


def make_influencer(name: str = "Anna Runs", handles=None, **values):
    from influencers.models import Influencer, InfluencerHandle

    handles = handles or [("instagram", name.lower().replace(" ", "."), 12_000, Decimal("3.2"))]
    influencer = Influencer(name=name, niches_csv=values.pop("niches_csv", ",running,"), **values)
    for platform, handle, followers, rate in handles:
        influencer.handles.append(
            InfluencerHandle(
                platform=platform, handle=handle, followers=followers, engagement_rate=rate
            )
        )
    db.session.add(influencer)
    db.session.flush()
    return influencer


def make_partnership(
    influencer,
    campaign,
    owner,
    status: str = "prospect",
    fee_minor: int = 100_000,
    currency: str = "EUR",
    plan: str = "half_half",
):
    from core.types import utcnow
    from influencers.models import Partnership
    from influencers.partnerships import unique_utm_campaign
    from influencers.payments import apply_payment_plan, refresh_milestones

    p = Partnership(
        influencer=influencer,
        campaign=campaign,
        owner_id=owner.id,
        status="prospect",
        fee_minor=fee_minor,
        currency=currency,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
    )
    db.session.add(p)
    db.session.flush()
    p.utm_campaign = unique_utm_campaign(p)
    apply_payment_plan(p, plan)
    p.status = status
    if p.is_committed:
        p.contracted_at = utcnow()
    refresh_milestones(p)
    db.session.flush()
    return p


def make_deliverable(p, status: str = "planned", platform: str = "instagram", due=None):
    from influencers.models import Deliverable
    from influencers.payments import refresh_milestones

    d = Deliverable(
        partnership=p,
        type="reel",
        platform=platform,
        due_date=due or date.today() + timedelta(days=3),
        status=status,
    )
    db.session.add(d)
    db.session.flush()
    d.utm_content = f"reel-{d.id}"
    refresh_milestones(p)
    db.session.flush()
    return d


def make_sample(users) -> dict:
    """Create the objects the influencer routes need; return ids for the URL templates."""
    from influencers import import_jobs
    from tests import factories

    campaign = factories.CampaignFactory(owner=users["marketer"], name="Influencer sample")
    influencer = make_influencer("Sample Creator")
    p = make_partnership(influencer, campaign, users["coordinator"], status="prospect")
    d = make_deliverable(p, status="draft_submitted")
    # Stored and previewed as an upload is (jobs run inline in the suite).
    upload = import_jobs.store(
        io.BytesIO(b"name,instagram\nNew Person,new.person\n"),
        "roster.csv",
        "roster",
        users["coordinator"].id,
    )
    import_jobs.queue_preview(upload, None, "EUR")
    return {
        "inf_campaign_id": campaign.id,
        "inf_influencer_id": influencer.id,
        "inf_partnership_id": p.id,
        "inf_deliverable_id": d.id,
        "inf_milestone_id": p.milestones[0].id,
        "inf_upload_id": upload.id,
    }
