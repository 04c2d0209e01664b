"""Performance pages: KPI tiles, charts, goal progress and restatements per campaign."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import plotly
from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for

from analytics import charts, roi, spend
from analytics import goals as goal_math
from analytics.exports import HEADER, performance_rows, totals_by_currency
from analytics.services import facts_frame, in_currency, restatements_for
from campaigns.metrics import METRICS
from campaigns.models import Campaign
from core.exports import iter_csv, write_xlsx
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
    # The chosen dates, every fact in them; the part outside the flight is called out.
    facts = facts_frame(campaign_ids=[c.id], since=since, until=until, flight=True)
    tiles = roi.kpis(facts)
    split = spend.window_split(facts, c.currency)
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
            per_currency, tile.currency, since, until
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
        channel_spend=split.by_channel,
        whole=split.whole,
        outside=split.outside_native,
        elsewhere=spend.outside_elsewhere(c.id, since, until),
    )


@bp.route("/vendor/plotly.min.js")
@require("performance.view")
def plotly_js():
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)


@bp.app_template_global()
def goal_notes() -> dict[str, str]:
    return goal_math.NOTES


@bp.app_template_global()
def performance_export_window() -> tuple[date, date]:
    """The export form's default: the 30 days up to yesterday (synced data ends there)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return yesterday - timedelta(days=29), yesterday


def _export_refused(message: str):
    flash(message, "error")
    back = "budgets.finance.dashboard" if request.args.get("back") == "finance" else "ads.accounts"
    return redirect(url_for(back) + "#performance-export")


@bp.route("/export")
@require("performance.export")
def export():
    """One row per platform campaign over the period (the CLI's `export performance`)."""
    fmt = request.args.get("format", "csv")
    try:
        since = date.fromisoformat(request.args.get("since", ""))
        until = date.fromisoformat(request.args.get("until", ""))
    except ValueError:
        return _export_refused("Pick both dates of the period, like 2026-03-01.")
    if since > until:
        return _export_refused("The start date must be on or before the end date.")
    if fmt not in ("csv", "xlsx"):
        return _export_refused("Choose CSV or XLSX.")
    rows = list(performance_rows(since, until))
    if not rows:
        return _export_refused(
            f"No synced spend between {since:%d %b %Y} and {until:%d %b %Y}: nothing to export."
        )
    rows += totals_by_currency(rows)
    filename = f"performance-{since.isoformat()}-{until.isoformat()}"
    if fmt == "xlsx":
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it
        write_xlsx(handle, [("Performance", HEADER, rows, None)])
        handle.seek(0)
        response = send_file(
            handle,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{filename}.xlsx",
        )
    else:
        response = Response(
            iter_csv(HEADER, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    response.headers["Cache-Control"] = "no-store"
    return response
