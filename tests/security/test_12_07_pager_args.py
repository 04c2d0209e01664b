"""Issue 12.7: a list's page links carry only the list's own filters.

The whole query string used to go into url_for, whose own parameters then came from the URL:
`?endpoint=x` was a 500, `?_external=1` made absolute links on the request's Host,
`?_anchor=…` appended a fragment, `?_scheme=…` / `?_method=…` rewrote or broke them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ads.models import SyncRun
from budgets.models import FxRate
from core.extensions import db
from core.models import AuditEntry
from tests import factories
from tests.conftest import login
from tests.matrix_influencers import make_influencer, make_partnership
from tests.test_route_matrix import sample as sample  # noqa: F401 - the matrix's fixture

HOSTILE = (
    {"endpoint": "admin.users"},
    {"_external": "1"},
    {"_anchor": "evil"},
    {"_scheme": "javascript"},
    {"_method": "POST"},
    {"values": "x"},
)
LISTS = {
    "campaigns.index": "/campaigns/",
    "influencers.index": "/influencers/",
    "influencers.partnerships": "/influencers/partnerships",
    "influencers.payment_list": "/influencers/payments",
    "budgets.fx.rates": "/budgets/fx/",
    "admin.audit": "/admin/audit",
    "ads.runs": "/ads/runs",
}


@pytest.fixture
def long_lists(users, sample):
    """Every list holds at least one row (the matrix sample), these three several pages."""
    for n in range(21):
        factories.CampaignFactory(owner=users["marketer"], name=f"Paged campaign {n:02}")
    for _ in range(31):
        db.session.add(SyncRun(account_id=sample["account_id"], kind="csv_import", status="ok"))
    for n in range(51):
        day = date(2025, 1, 1) + timedelta(days=n)
        db.session.add(FxRate(day=day, base_currency="USD", quote_currency="EUR", rate=Decimal(1)))
    for n in range(51):
        db.session.add(
            AuditEntry(
                actor_label="test",
                action="update",
                object_type="campaign",
                object_id=str(n),
                object_label=f"entry {n}",
                changes={},
            )
        )
    campaign = factories.CampaignFactory(owner=users["marketer"], name="Contracted")
    make_partnership(make_influencer("Paid Creator"), campaign, users["coordinator"], "contracted")
    db.session.commit()


def page_links(html: str) -> list[str]:
    nav = re.findall(r'<nav class="pager".*?</nav>', html, re.S)
    first = re.findall(r'<p class="empty">Page \d+ is past the last page.*?</p>', html, re.S)
    return [
        link.replace("&amp;", "&")
        for block in nav + first
        for link in re.findall(r'href="([^"]*)"', block)
    ]


def assert_plain_page_links(links: list[str], path: str) -> None:
    assert links, "no page link on the page"
    for link in links:
        parts = urlsplit(link)
        assert not parts.scheme and not parts.netloc and not parts.fragment, link
        assert parts.path == path, link
        names = set(parse_qs(parts.query))
        assert "page" in names and not names & {"endpoint", "values"}, link
        assert not any(n.startswith("_") for n in names), link


def test_every_paged_list_has_a_whitelist():
    from core.params import PAGER_ARGS

    templates = Path(__file__).resolve().parents[2] / "templates"
    used = set()
    for template in templates.rglob("*.html"):
        used |= set(
            re.findall(r"(?:pager|past_last_page)\(page, '([\w.]+)'\)", template.read_text())
        )
    assert used == set(PAGER_ARGS) == set(LISTS)


@pytest.mark.parametrize("endpoint", sorted(LISTS))
@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: next(iter(h)))
def test_url_for_parameters_in_the_query_never_reach_page_links(
    app, users, long_lists, endpoint, hostile
):
    client = app.test_client()
    assert login(client, users["admin"]).status_code == 302
    path = LISTS[endpoint]
    # Page 2 where the list has one, else a page past the last (its "first page" link).
    page = (
        "2"
        if endpoint in ("campaigns.index", "budgets.fx.rates", "admin.audit", "ads.runs")
        else "999"
    )
    response = client.get(path, query_string={"page": page, **hostile})
    assert response.status_code == 200, (endpoint, hostile)
    assert_plain_page_links(page_links(response.get_data(as_text=True)), path)


def test_filters_are_carried_to_the_next_page(app, users, long_lists):
    client = app.test_client()
    assert login(client, users["admin"]).status_code == 302
    response = client.get(
        "/campaigns/", query_string={"q": "Paged", "sort": "name", "dir": "desc", "_anchor": "x"}
    )
    (link,) = page_links(response.get_data(as_text=True))
    query = parse_qs(urlsplit(link).query)
    assert query == {"q": ["Paged"], "sort": ["name"], "dir": ["desc"], "page": ["2"]}
