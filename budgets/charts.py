"""The pacing chart of a budget as Plotly JSON (drawn by static/charts.js; no inline JS)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from analytics import axes
from core.money import exponent

LAYOUT = {
    "margin": {"l": 60, "r": 30, "t": 30, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def _major(values: pd.Series, currency: str) -> list[float | None]:
    # Plotly draws floats; tables keep exact Money.
    digits = exponent(currency)
    return [None if pd.isna(v) else float(Decimal(int(v)).scaleb(-digits)) for v in values]


def pacing_figure(curve: pd.DataFrame, currency: str, planned_total: int) -> str:
    days = [d.isoformat() for d in curve["day"]]
    fig = go.Figure()
    fig.add_scatter(
        x=days,
        y=_major(curve["plan"], currency),
        name="Plan",
        line={"color": "#6b7385", "dash": "dot"},
    )
    fig.add_scatter(
        x=days,
        y=_major(curve["actual"], currency),
        name="Actual + committed",
        line={"color": "#3453d1", "width": 3},
    )
    fig.add_scatter(
        x=days,
        y=_major(curve["projection"], currency),
        name="Projection",
        line={"color": "#b7791f", "dash": "dash"},
    )
    planned = Decimal(planned_total).scaleb(-exponent(currency))
    fig.add_hline(
        y=float(planned),
        line={"color": "#c53030", "width": 1},
        annotation_text="Approved plan",
    )
    lines = [_major(curve[name], currency) for name in ("plan", "actual", "projection")]
    top = max([v for line in lines for v in line if v is not None] + [float(planned)])
    fig.update_layout(
        **LAYOUT,
        xaxis=axes.date_axis(curve["day"].iloc[0], curve["day"].iloc[-1]),
        yaxis=axes.money_axis(currency, top),
    )
    return fig.to_json()
