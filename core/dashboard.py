"""The landing page after sign-in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.permissions import require

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@require("dashboard.view")
def index():
    counts = dict(
        db.session.execute(
            select(Campaign.status, func.count(Campaign.id)).group_by(Campaign.status)
        ).all()
    )
    mine = db.session.scalars(
        select(Campaign)
        .where(Campaign.owner_id == current_user.id, Campaign.status != CampaignStatus.ARCHIVED)
        .order_by(Campaign.start_date)
        .limit(10)
    ).all()
    return render_template(
        "dashboard.html", counts=counts, statuses=list(CampaignStatus), mine=mine
    )
