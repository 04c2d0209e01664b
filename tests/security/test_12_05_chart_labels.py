"""Issue 12.5: user text on charts is drawn as text, never as Plotly's HTML subset.

An influencer named like a link appears on the influencer ROI chart (finance reads it) as
the characters typed: no <a> in the figure's labels, none in the rendered chart or its hover.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from core.models import Role
from tests.conftest import PASSWORD

PAYLOAD = (
    '<a href="https://evil.example/verify">Verify account</a>'
    '<span style="font-size:40px;color:red">!</span>'
)


@pytest.fixture
def roi_with_payload(users) -> str:
    """Demo partnerships with ROI, one influencer renamed to the payload; the chart key."""
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers
    from influencers.reporting import roi_report

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_influencers(roles)
    db.session.commit()
    report = roi_report()
    row = next(r for r in report["partnerships"] if r["partnership"] is not None)
    row["partnership"].influencer.name = PAYLOAD
    db.session.commit()
    return f"roi-{row['currency']}"


def figure_texts(figure: dict) -> list[str]:
    texts = []
    for trace in figure["data"]:
        texts += [v for v in trace.get("x", []) if isinstance(v, str)]
        texts.append(trace.get("name", ""))
    return texts


def test_the_roi_figure_carries_the_name_escaped(roi_with_payload):
    from influencers.reporting import roi_report

    figure = json.loads(roi_report()["figures"][roi_with_payload])
    texts = figure_texts(figure)
    assert any("Verify account" in t for t in texts)
    assert not any("<" in t for t in texts), [t for t in texts if "<" in t]
    assert any(t.startswith("&lt;a href=") for t in texts)


def test_roas_by_channel_labels_are_escaped():
    import pandas as pd

    from analytics.charts import roas_by_channel

    frame = pd.DataFrame({"channel": ["<b>meta_ads</b>"], "currency": ["EUR"], "roas": [2.0]})
    figure = json.loads(roas_by_channel(frame))
    assert figure["data"][0]["x"] == ["&lt;b&gt;meta ads&lt;/b&gt; (EUR)"]


@pytest.mark.browser
def test_chromium_draws_no_live_link_on_the_roi_chart(page: Page, sign_in, users, roi_with_payload):
    sign_in(users["finance"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto("/influencers/roi")
    chart = page.locator(f".chart[data-figure='{roi_with_payload}']")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    ticks = chart.locator(".xtick text")
    expect(ticks.first).to_be_attached()
    # The name is drawn as the characters typed...
    assert any("Verify account</a>" in t for t in ticks.all_text_contents())
    # ...and nothing in the chart is a link, a styled span, or points at evil.example.
    assert chart.locator("a").count() == 0
    assert "evil.example" not in chart.evaluate(
        "el => Array.from(el.querySelectorAll('[href], [*|href]'))"
        ".map(a => a.getAttribute('href') || a.getAttribute('xlink:href')).join(' ')"
    )
    # Hovering the payload's bar shows the same literal text, again with no link.
    chart.evaluate(
        """el => {
            const i = el.data[0].x.findIndex(x => x.includes("Verify account"));
            window.Plotly.Fx.hover(el, [{curveNumber: 0, pointNumber: i}]);
        }"""
    )
    hover = chart.locator(".hoverlayer")
    expect(hover).to_contain_text("Verify account</a>")
    assert hover.locator("a").count() == 0
    assert chart.locator("[style*='font-size:40px'], [style*='font-size: 40px']").count() == 0
