"""Plotly figures as JSON for the browser (rendered by static/charts.js, no CDN)."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from analytics import axes
from core.money import exponent

LAYOUT = {
    "margin": {"l": 50, "r": 50, "t": 30, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def plain(text: object) -> str:
    """User text for a Plotly label, title or hover, shown as typed.

    Plotly renders a subset of HTML in every text it draws (<a href>, <span style>, <br>…),
    so a name like `<a href=…>Verify account</a>` would become a live link on the chart.
    Escaped, it is drawn literally: Plotly turns &lt; &gt; &amp; back into text, never tags.
    """
    return html.escape(str(text), quote=False)


def _major(minor_series: pd.Series, currency: str) -> list[float]:
    # Plotly draws floats; the numbers shown in tables stay Decimal.
    digits = exponent(currency)
    return [float(Decimal(int(v)).scaleb(-digits)) for v in minor_series]


def daily_spend_conversions(daily: pd.DataFrame, currency: str, since: date, until: date) -> str:
    """Spend (bars, left axis in `currency`) and conversions (line, right axis) per day over
    the period shown, with a tick per day when the period is short."""
    days = [d.isoformat() for d in daily["day"]]
    spend = _major(daily["spend_minor"], currency)
    conversions = [int(v) for v in daily["conversions"]]
    fig = go.Figure()
    fig.add_bar(x=days, y=spend, name=f"Spend ({currency})", marker_color="#3453d1")
    fig.add_scatter(
        x=days,
        y=conversions,
        name="Conversions",
        yaxis="y2",
        mode="lines+markers",
        line={"color": "#1f8a4c"},
    )
    # Two grids that do not line up read as noise: the right axis draws none.
    conversions_axis = axes.count_axis("Conversions", max(conversions, default=0))
    fig.update_layout(
        **LAYOUT,
        xaxis=axes.date_axis(since, until),
        yaxis=axes.money_axis(currency, max(spend, default=0)),
        yaxis2=conversions_axis | {"overlaying": "y", "side": "right", "showgrid": False},
    )
    return fig.to_json()


def roas_by_channel(by_channel: pd.DataFrame) -> str:
    labels = [
        plain(f"{c.replace('_', ' ')} ({cur})")
        for c, cur in zip(by_channel["channel"], by_channel["currency"], strict=True)
    ]
    values = [float(v) if v is not None else 0.0 for v in by_channel["roas"]]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color="#6b46c1", name="ROAS"))
    fig.update_layout(**LAYOUT, yaxis={"title": "ROAS (×)", "rangemode": "tozero"})
    return fig.to_json()
