"""Influencer ROI from the database: builds the frame influencers.roi works on, and the chart.

Cost is the campaign's influencer spend of `analytics.spend` over all time (what
influencer_costs reports: the contracted fee; only paid milestones of a cancelled partnership);
revenue is attributed orders; reach numbers are the deliverables' metrics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import func, select

from analytics import axes, spend
from analytics.charts import LAYOUT, plain
from campaigns.models import Campaign
from core.extensions import db
from core.money import exponent
from influencers import roi
from influencers.api import attributed_revenue
from influencers.models import Deliverable, Partnership

KEY = tuple[int, int, str]  # partnership, campaign, currency


def major(minor: int | None, currency: str) -> str:
    if minor is None:
        return ""
    return str(Decimal(int(minor)).scaleb(-exponent(currency)))


def _metrics(partnership_ids: list[int]) -> dict[int, dict[str, int]]:
    if not partnership_ids:
        return {}
    d = Deliverable
    engagements = sum(func.coalesce(getattr(d, f), 0) for f in ("likes", "comments", "shares"))
    engagements = engagements + func.coalesce(d.saves, 0)
    stmt = (
        select(
            d.partnership_id,
            func.sum(func.coalesce(d.impressions, 0)),
            func.sum(engagements),
            func.sum(func.coalesce(d.clicks, 0)),
            func.sum(func.coalesce(d.conversions, 0)),
        )
        .where(d.partnership_id.in_(partnership_ids))
        .group_by(d.partnership_id)
    )
    return {
        pid: {
            "impressions": int(imp or 0),
            "engagements": int(eng or 0),
            "clicks": int(clicks or 0),
            "conversions": int(conv or 0),
        }
        for pid, imp, eng, clicks, conv in db.session.execute(stmt)
    }


def roi_frame(campaign_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per partnership × currency with cost, revenue and reach sums (int64)."""
    ids = list(campaign_ids) if campaign_ids is not None else None
    sums: dict[KEY, dict[str, int]] = defaultdict(lambda: dict.fromkeys(roi.COUNT_COLUMNS, 0))
    home: dict[int, KEY] = {}
    # The cost is the campaign's influencer spend over all time (analytics.spend, the
    # definition the budget pages use): paid + committed = the contracted fee.
    costs = spend.influencer_spend(ids)
    for pid, cid, cur, amount in zip(
        costs["partnership_id"],
        costs["campaign_id"],
        costs["currency"],
        costs["amount_minor"],
        strict=True,
    ):
        key = (int(pid), int(cid), str(cur))
        sums[key]["cost_minor"] += int(amount)
        home.setdefault(int(pid), key)
    for rev in attributed_revenue(ids):
        key = (rev.partnership_id, rev.campaign_id, rev.currency)
        sums[key]["revenue_minor"] += rev.revenue_minor
    # Reach counts once per partnership, on its fee's currency row.
    for pid, values in _metrics(list(home)).items():
        for name, value in values.items():
            sums[home[pid]][name] += value
    if not sums:
        return roi.empty()
    rows = [
        {"partnership_id": pid, "campaign_id": cid, "currency": cur, **values}
        for (pid, cid, cur), values in sums.items()
    ]
    frame = pd.DataFrame(rows)
    for column in roi.COUNT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame


def _labels(partnership_ids: list[int]) -> dict[int, Partnership]:
    if not partnership_ids:
        return {}
    stmt = select(Partnership).where(Partnership.id.in_(partnership_ids))
    return {p.id: p for p in db.session.scalars(stmt)}


def roi_report(campaign_ids: list[int] | None = None) -> dict[str, Any]:
    frame = roi_frame(campaign_ids)
    per_partnership = roi.summarise(frame, by=["partnership_id"])
    per_campaign = roi.summarise(frame, by=["campaign_id"])
    partnerships = _labels([int(v) for v in per_partnership["partnership_id"]])
    campaigns = {c.id: c for c in db.session.scalars(select(Campaign))} if len(frame) else {}
    rows = per_partnership.to_dict("records")
    for row in rows:
        row["partnership"] = partnerships.get(int(row["partnership_id"]))
    campaign_rows = per_campaign.to_dict("records")
    for row in campaign_rows:
        row["campaign"] = campaigns.get(int(row["campaign_id"]))
    figures = {
        f"roi-{currency}": comparison_chart([r for r in rows if r["currency"] == currency])
        for currency in sorted({r["currency"] for r in rows})
    }
    return {"partnerships": rows, "campaigns": campaign_rows, "figures": figures}


def partnership_roi(p: Partnership) -> list[dict[str, Any]]:
    frame = roi_frame([p.campaign_id])
    frame = frame[frame["partnership_id"] == p.id]
    return roi.summarise(frame, by=["partnership_id"]).to_dict("records")


def comparison_chart(rows: list[dict[str, Any]]) -> str:
    """Cost and attributed revenue per partnership (bars) with ROI (markers, right axis)."""
    currency = rows[0]["currency"]
    digits = exponent(currency)
    labels = [plain(r["partnership"].influencer.name if r["partnership"] else "?") for r in rows]

    def money(column: str) -> list[float]:
        # Plotly draws floats; tables keep Decimal.
        return [float(Decimal(int(r[column])).scaleb(-digits)) for r in rows]

    cost, revenue = money("cost_minor"), money("revenue_minor")
    fig = go.Figure()
    fig.add_bar(x=labels, y=cost, name=f"Cost ({currency})", marker_color="#3453d1")
    fig.add_bar(x=labels, y=revenue, name=f"Revenue ({currency})", marker_color="#1f8a4c")
    fig.add_scatter(
        x=labels,
        y=[float(r["roi"] * 100) if r["roi"] is not None else None for r in rows],
        name="ROI %",
        yaxis="y2",
        mode="markers",
        marker={"color": "#6b46c1", "size": 11, "symbol": "diamond"},
    )
    fig.update_layout(
        **LAYOUT,
        barmode="group",
        yaxis=axes.money_axis(currency, max(cost + revenue, default=0)),
        yaxis2=axes.percent_axis("ROI %") | {"overlaying": "y", "side": "right", "showgrid": False},
    )
    return fig.to_json()


def campaigns_with_partnerships() -> list[Campaign]:
    stmt = (
        select(Campaign)
        .where(Campaign.id.in_(select(Partnership.campaign_id).distinct()))
        .order_by(Campaign.name)
    )
    return list(db.session.scalars(stmt))
