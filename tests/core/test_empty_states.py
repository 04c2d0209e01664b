"""A first run: every list says what to do next, to the role that can do it, and tells
"nothing matches these filters" apart from "nothing yet"."""

from __future__ import annotations

import pytest

from tests.conftest import login

# path -> {role: text the empty page must show}
EMPTY = {
    "/campaigns/": {
        "marketer": "No campaign yet. Plan the first one",
        "viewer": "No campaign yet. Marketers plan them.",
    },
    "/budgets/": {
        "finance": "No open budget yet. Create one.",
        "marketer": "once one is open you can request an allocation",
        "viewer": "Finance opens period budgets.",
    },
    "/budgets/finance/": {"finance": "No open budget. Create one for a period"},
    "/influencers/": {
        "coordinator": "The roster is empty. Import a roster CSV or add an influencer.",
        "marketer": "The roster is empty. Influencer coordinators keep it.",
    },
    "/influencers/partnerships": {
        "coordinator": "No partnership yet. Start one from the roster.",
        "viewer": "No partnership yet. Influencer coordinators start them.",
    },
    "/influencers/payments": {"coordinator": "No payment milestones yet"},
}
FILTERED = {
    "/campaigns/?q=nothing-like-this": "No campaign matches these filters. Reset them",
    "/influencers/?q=nothing-like-this": "No influencer matches these filters.",
    "/influencers/partnerships?status=active": "No partnership matches these filters.",
    "/influencers/payments?status=paid": "No paid payment.",
}


def _text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>")[0]
    plain = "".join(part.split(">", 1)[-1] for part in main.split("<"))
    return " ".join(plain.split())


@pytest.mark.parametrize(
    ("path", "role", "expected"),
    [(p, r, t) for p, by_role in EMPTY.items() for r, t in by_role.items()],
)
def test_an_empty_list_says_what_to_do_next(app, users, path, role, expected):
    client = app.test_client()
    login(client, users[role])
    response = client.get(path)
    assert response.status_code == 200
    assert expected in _text(response.get_data(as_text=True))


@pytest.mark.parametrize(("path", "expected"), sorted(FILTERED.items()))
def test_a_filter_that_matches_nothing_says_so(app, users, path, expected):
    client = app.test_client()
    login(client, users["admin"])
    assert expected in _text(client.get(path).get_data(as_text=True))


def test_a_page_past_the_last_one_links_back_to_the_first(app, users):
    from core.extensions import db
    from tests import factories

    for n in range(3):
        factories.CampaignFactory(owner=users["marketer"], name=f"Campaign {n}")
    db.session.commit()
    client = app.test_client()
    login(client, users["viewer"])
    text = _text(client.get("/campaigns/?page=7&sort=name").get_data(as_text=True))
    assert "Page 7 is past the last page (3 in all). Go to the first page." in text
