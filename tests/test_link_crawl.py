"""Every link a role is shown opens for that role: a crawl from the dashboard over the demo's
campaigns, budgets and influencers finds no 403, 404 or 500 behind any link."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest

from core.extensions import db
from core.models import Role
from tests.conftest import login

HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]*)')
PER_PATTERN = 3  # pages per URL shape (ids replaced): enough to see every kind of link


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


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_no_link_shown_to_a_role_is_refused_or_broken(app, users, demo, role):
    client = app.test_client()
    login(client, users[role])
    queue, seen, shapes, broken = deque(["/"]), set(), Counter(), []
    while queue:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", path)
        if path in seen or shapes[shape] >= PER_PATTERN:
            continue
        seen.add(path)
        shapes[shape] += 1
        response = client.get(path)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()  # downloads (XLSX) stream from a temporary file
        if response.status_code != 200:
            broken.append((path, response.status_code))
            continue
        for href in HREF.findall(html):
            target = urlsplit(urljoin(f"http://localhost{path}", href.replace("&amp;", "&")))
            if target.netloc == "localhost" and not target.path.startswith("/static/"):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) > 40, sorted(seen)
    assert not broken, broken
