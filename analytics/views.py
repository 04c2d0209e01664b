"""Performance pages: KPI tiles, charts, goal progress and restatements per campaign."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import plotly
from flask import Blueprint, render_template, request, send_file

from analytics import charts, roi
from analytics.services import facts_frame, in_currency, restatements_for
from campaigns.metrics import METRICS
from campaigns.models import Campaign
from core.permissions import get_for, require

bp = Blueprint("performance", __name__, url_prefix="/performance")

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


@bp.route("/campaigns/<int:campaign_id>")
@require("performance.view")
def campaign(campaign_id: int):
    c = get_for(Campaign, campaign_id, "performance.view")
    today = datetime.now(UTC).date()
    since = _date_arg("since", c.start_date)
    until = _date_arg("until", min(c.end_date, today) if c.start_date <= today else c.end_date)
    error = None
    if since > until:
        error = "The start date must be on or before the end date; showing the whole flight."
        since, until = c.start_date, c.end_date
    facts = facts_frame(campaign_ids=[c.id], since=since, until=until)
    tiles = roi.kpis(facts)
    # Several currencies (or not the campaign's): one more row of tiles, all converted.
    combined, unconverted = None, []
    if any(t.currency != c.currency for t in tiles):
        converted, unconverted = in_currency(facts, c.currency)
        if not unconverted:
            combined = roi.kpis(converted)[0]
    by_channel = roi.summarise(facts, by=["channel"])
    by_platform_campaign = roi.summarise(facts, by=["platform_campaign_id"])
    daily = roi.daily(facts)
    figures = {}
    for tile in tiles:
        per_currency = daily[daily["currency"] == tile.currency]
        figures[f"daily-{tile.currency}"] = charts.daily_spend_conversions(
            per_currency, tile.currency
        )
    if not by_channel.empty:
        figures["roas-by-channel"] = charts.roas_by_channel(by_channel)
    return render_template(
        "performance/campaign.html",
        campaign=c,
        since=since,
        until=until,
        error=error,
        tiles=tiles,
        combined=combined,
        unconverted=unconverted,
        by_channel=by_channel.to_dict("records"),
        figures=figures,
        metrics=METRICS,
        restatements=restatements_for(c.id),
        platform_rows=by_platform_campaign.to_dict("records"),
    )


@bp.route("/vendor/plotly.min.js")
@require("performance.view")
def plotly_js():
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)
