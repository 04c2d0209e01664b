"""Every destructive button a role is shown asks first: a crawl over the demo as each role finds
no Remove / Delete / Cancel / Archive / Close / Clear / Revoke button without a `data-confirm`
question (static/confirm.js asks it; tests/browser/test_confirm_dialogs.py clicks one)."""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from core.extensions import db
from core.models import Role
from tests.conftest import login
from tests.test_link_crawl import HREF

DESTRUCTIVE = re.compile(r"^(remove|delete|cancel|archive|close|clear|revoke|disconnect)\b", re.I)
PER_PATTERN = 3


class PostButtons(HTMLParser):
    """(label, data-confirm) of every submit button inside a POST form."""

    def __init__(self) -> None:
        super().__init__()
        self.in_post = False
        self.button: dict[str, str | None] | None = None
        self.text: list[str] = []
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.in_post = (a.get("method") or "").lower() == "post"
        elif tag == "button" and self.in_post and (a.get("type") or "submit") == "submit":
            self.button, self.text = a, []

    def handle_data(self, data):
        if self.button is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post = False
        elif tag == "button" and self.button is not None:
            label = self.button.get("aria-label") or "".join(self.text).strip()
            self.found.append((label, self.button.get("data-confirm")))
            self.button = None


@pytest.fixture
def demo(users):
    from budgets.demo import seed_budgets
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_budgets(roles)
    seed_influencers(roles)
    db.session.commit()


def _crawl(client) -> list[tuple[str, str, str | None]]:
    queue, seen, shapes, buttons = deque(["/"]), set(), Counter(), []
    while queue:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", path)
        if path in seen or shapes[shape] >= PER_PATTERN:
            continue
        seen.add(path)
        shapes[shape] += 1
        response = client.get(path)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        parser = PostButtons()
        parser.feed(html)
        buttons += [(path, label, question) for label, question in parser.found]
        for href in HREF.findall(html):
            target = urlsplit(urljoin(f"http://localhost{path}", href.replace("&amp;", "&")))
            if target.netloc == "localhost" and not target.path.startswith("/static/"):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return buttons


@pytest.mark.parametrize("role", ["admin", "marketer", "finance", "coordinator"])
def test_every_destructive_button_asks_first(app, users, demo, role):
    client = app.test_client()
    login(client, users[role])
    buttons = _crawl(client)
    destructive = [(path, label, q) for path, label, q in buttons if DESTRUCTIVE.match(label)]
    assert destructive, "the demo shows this role no destructive button: the crawl saw nothing"
    unasked = [(path, label) for path, label, question in destructive if not question]
    assert not unasked, unasked
    # Everyday steps (submit, approve, sign out) do not nag.
    assert not [label for _, label, q in buttons if q and not DESTRUCTIVE.match(label)]


def test_the_question_names_what_goes(app, users, client, login_as):
    from tests import factories

    campaign = factories.CampaignFactory(owner=users["marketer"], status="planned")
    factories.GoalFactory(campaign=campaign, metric="cpa", direction="at_most")
    factories.GoalFactory(campaign=campaign, channel="meta_ads")
    db.session.commit()
    login_as("marketer")
    parser = PostButtons()
    parser.feed(client.get(f"/campaigns/{campaign.id}").get_data(as_text=True))
    questions = dict(parser.found)
    assert questions["Remove the CPA goal"] == "Remove the CPA goal? This cannot be undone."
    assert questions["Remove the ROAS (meta ads) goal"].startswith("Remove the ROAS (meta ads)")


def test_a_prospect_milestone_and_the_partnership_ask_by_name(app, users, client, login_as):
    from tests import factories
    from tests.matrix_influencers import make_influencer, make_partnership

    campaign = factories.CampaignFactory(owner=users["marketer"], name="Spring", status="active")
    p = make_partnership(make_influencer("Anna Runs"), campaign, users["coordinator"])
    db.session.commit()
    login_as("coordinator")
    parser = PostButtons()
    parser.feed(client.get(f"/influencers/partnerships/{p.id}").get_data(as_text=True))
    questions = dict(parser.found)
    label = p.milestones[0].label
    assert questions[f"Remove the “{label}” milestone"] == f"Remove the “{label}” milestone?"
    assert questions["Cancel"].startswith("Cancel the partnership Anna Runs × Spring?")
