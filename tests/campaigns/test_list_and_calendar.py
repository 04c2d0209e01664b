"""The campaign list (search, filters, sorting, pagination) and the month calendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape

import pytest

from core.extensions import db
from tests import factories

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def listed(response) -> list[str]:
    """Campaign names in the list table, in page order."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = re.search(r'<table class="table" id="campaign-list">(.*?)</table>', html, re.S)
    if table is None:
        return []
    return [unescape(n) for n in re.findall(r'<a href="/campaigns/\d+">(.*?)</a>', table[1])]


def calendar_flights(response) -> list[str]:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    section = re.search(r'<ul class="flight-list">(.*?)</ul>', html, re.S)
    if section is None:
        return []
    return [unescape(n) for n in re.findall(r'<a href="/campaigns/\d+">(.*?)</a>', section[1])]


def make(owner, name: str, **overrides):
    values = {
        "owner": owner,
        "name": name,
        "start_date": MARCH[0],
        "end_date": MARCH[1],
        "channels_csv": ",meta_ads,",
    }
    values.update(overrides)
    return factories.CampaignFactory(**values)


@pytest.fixture
def marketer(login_as):
    return login_as("marketer")


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(marketer):
    make(marketer, "Autumn Boots Launch", brand="Stride", product="AirRun 3")
    make(marketer, "Yoga Creators", brand="Lumen", product="FlexMat")
    make(marketer, "Winter Retargeting", brand="Nordwind", product="Polar Parka")
    db.session.commit()


SEARCHES = [
    ("autumn", ["Autumn Boots Launch"]),  # name, any case
    ("LUMEN", ["Yoga Creators"]),  # brand
    ("parka", ["Winter Retargeting"]),  # product
    ("  flexmat ", ["Yoga Creators"]),  # surrounding spaces
    ("u", ["Autumn Boots Launch", "Yoga Creators"]),  # name of one, brand of another
    ("zzz", []),
    ("", ["Autumn Boots Launch", "Winter Retargeting", "Yoga Creators"]),
]


def test_search_by_name_brand_or_product(client, catalogue, subtests):
    for q, expected in SEARCHES:
        with subtests.test(q=q):
            response = client.get("/campaigns/", query_string={"q": q, "sort": "name"})
            assert listed(response) == expected
            if not expected:
                assert "No campaign matches these filters." in response.get_data(as_text=True)


def test_nul_in_query_is_refused_not_a_500(client, catalogue):
    response = client.get("/campaigns/", query_string={"q": "boots\x00"})
    assert response.status_code == 400
    assert "invisible NUL character" in response.get_data(as_text=True)


def test_search_treats_wildcards_literally(client, marketer):
    make(marketer, "50% off weekend")
    make(marketer, "500 club")
    make(marketer, "meta_ads retargeting")
    make(marketer, "metaXads lookalike")
    make(marketer, "C:\\drive")
    db.session.commit()
    cases = {
        "50%": ["50% off weekend"],
        "%": ["50% off weekend"],
        "_": ["meta_ads retargeting"],
        "meta_ads": ["meta_ads retargeting"],
        "\\": ["C:\\drive"],
    }
    for q, expected in cases.items():
        assert listed(client.get("/campaigns/", query_string={"q": q})) == expected, q


def test_search_with_odd_text_is_safe(client, catalogue, subtests):
    for q in ["%", "_", "' OR 1=1 --", "x" * 500, "<script>"]:
        with subtests.test(q=q):
            response = client.get("/campaigns/", query_string={"q": q})
            assert response.status_code == 200
            assert "<script>" not in response.get_data(as_text=True)


# --- filters ------------------------------------------------------------------------------------


@pytest.fixture
def one_per_status(marketer):
    for status in ("draft", "planned", "active", "paused", "completed", "archived"):
        make(marketer, f"{status.title()} campaign", status=status)
    db.session.commit()


def test_archived_is_hidden_by_default(client, one_per_status):
    names = listed(client.get("/campaigns/", query_string={"sort": "name"}))
    assert names == [
        "Active campaign",
        "Completed campaign",
        "Draft campaign",
        "Paused campaign",
        "Planned campaign",
    ]


def test_filter_by_status(client, one_per_status):
    for status in ("draft", "planned", "active", "paused", "completed", "archived"):
        names = listed(client.get("/campaigns/", query_string={"status": status}))
        assert names == [f"{status.title()} campaign"], status


def test_filter_by_channel_is_exact(client, marketer):
    make(marketer, "Meta only", channels_csv=",meta_ads,")
    make(marketer, "Other only", channels_csv=",other,")
    make(marketer, "Google and Meta", channels_csv=",meta_ads,google_ads,")
    make(marketer, "TikTok", channels_csv=",tiktok_ads,")
    db.session.commit()

    def names(channel):
        return listed(client.get("/campaigns/", query_string={"channel": channel, "sort": "name"}))

    assert names("meta_ads") == ["Google and Meta", "Meta only"]
    assert names("other") == ["Other only"]
    assert names("google_ads") == ["Google and Meta"]
    assert names("linkedin_ads") == []
    assert len(names("")) == 4


def test_filter_by_owner(client, marketer, users):
    make(marketer, "Mine")
    make(users["admin"], "Admin's")
    db.session.commit()
    only_mine = client.get("/campaigns/", query_string={"owner": marketer.id})
    assert listed(only_mine) == ["Mine"]
    only_admin = client.get("/campaigns/", query_string={"owner": users["admin"].id})
    assert listed(only_admin) == ["Admin's"]
    assert listed(client.get("/campaigns/", query_string={"owner": 424242})) == []


@pytest.fixture
def flights(marketer):
    make(marketer, "A early March", start_date=date(2026, 3, 1), end_date=date(2026, 3, 10))
    make(marketer, "B mid March", start_date=date(2026, 3, 10), end_date=date(2026, 3, 20))
    make(marketer, "C late March", start_date=date(2026, 3, 21), end_date=date(2026, 3, 31))
    make(marketer, "D spring", start_date=date(2026, 2, 1), end_date=date(2026, 4, 30))
    db.session.commit()


DATE_RANGES = [
    ("2026-03-10", "2026-03-20", ["A early March", "B mid March", "D spring"]),
    ("2026-03-11", "2026-03-20", ["B mid March", "D spring"]),
    ("2026-03-21", "", ["C late March", "D spring"]),
    ("", "2026-03-09", ["A early March", "D spring"]),
    ("2026-03-15", "2026-03-15", ["B mid March", "D spring"]),
    ("2026-05-01", "", []),
    ("", "2026-01-31", []),
]


def test_date_range_uses_overlap(client, flights, subtests):
    for date_from, date_to, expected in DATE_RANGES:
        with subtests.test(date_from=date_from, date_to=date_to):
            params = {"from": date_from, "to": date_to, "sort": "name"}
            assert listed(client.get("/campaigns/", query_string=params)) == expected


def test_filters_combine(client, marketer, users):
    make(marketer, "Match", brand="Stride", status="active", channels_csv=",other,")
    make(marketer, "Wrong status", brand="Stride", status="draft", channels_csv=",other,")
    make(marketer, "Wrong channel", brand="Stride", status="active")
    make(users["admin"], "Wrong owner", brand="Stride", status="active", channels_csv=",other,")
    make(marketer, "Wrong brand", brand="Lumen", status="active", channels_csv=",other,")
    db.session.commit()
    params = {"q": "stride", "status": "active", "channel": "other", "owner": marketer.id}
    assert listed(client.get("/campaigns/", query_string=params)) == ["Match"]


# --- sorting ------------------------------------------------------------------------------------


@pytest.fixture
def sortable(marketer):
    # Every key orders the three differently, so a key that is ignored cannot pass.
    make(
        marketer,
        "Alpha",
        start_date=date(2026, 3, 3),
        end_date=date(2026, 3, 15),
        status="active",
        planned_budget_minor=200,
        updated_at=datetime(2026, 1, 3, tzinfo=UTC),
    )
    make(
        marketer,
        "Bravo",
        start_date=date(2026, 3, 1),
        end_date=date(2026, 3, 31),
        status="paused",
        planned_budget_minor=100,
        updated_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    make(
        marketer,
        "Charlie",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 5),
        status="draft",
        planned_budget_minor=300,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    db.session.commit()


SORTS = [
    ("name", ["Alpha", "Bravo", "Charlie"]),
    ("start", ["Bravo", "Charlie", "Alpha"]),
    ("end", ["Charlie", "Alpha", "Bravo"]),
    ("status", ["Alpha", "Charlie", "Bravo"]),
    ("budget", ["Bravo", "Alpha", "Charlie"]),
    ("updated", ["Charlie", "Bravo", "Alpha"]),
]


def test_sorting_by_each_key_both_ways(client, sortable, subtests):
    for sort, ascending in SORTS:
        with subtests.test(sort=sort):
            asc = listed(client.get("/campaigns/", query_string={"sort": sort, "dir": "asc"}))
            desc = listed(client.get("/campaigns/", query_string={"sort": sort, "dir": "desc"}))
            assert asc == ascending
            assert desc == list(reversed(ascending))


def test_default_sort_is_flight_start(client, sortable):
    assert listed(client.get("/campaigns/")) == ["Bravo", "Charlie", "Alpha"]


# --- pagination ---------------------------------------------------------------------------------


@pytest.fixture
def twenty_five(marketer):
    for n in range(25):
        make(marketer, f"Campaign {n:02d}")
    db.session.commit()


def test_pagination_splits_25_into_20_and_5(client, twenty_five):
    first = client.get("/campaigns/", query_string={"sort": "name"})
    second = client.get("/campaigns/", query_string={"sort": "name", "page": 2})
    assert listed(first) == [f"Campaign {n:02d}" for n in range(20)]
    assert listed(second) == [f"Campaign {n:02d}" for n in range(20, 25)]
    assert "Page 1 of 2 · 25 in all" in first.get_data(as_text=True)
    html = second.get_data(as_text=True)
    assert "Page 2 of 2 · 25 in all" in html
    assert "page=1" in html and "sort=name" in html  # the previous link keeps the filters


def test_odd_pages_never_fail(client, twenty_five, subtests):
    for page in ["3", "99", "100000", "99999999999999999999"]:
        with subtests.test(page=page, expect="empty page"):
            response = client.get("/campaigns/", query_string={"page": page})
            assert listed(response) == []
            html = response.get_data(as_text=True)
            assert "is past the last page (25 in all)." in html and "Go to the first page" in html
    for page in ["0", "-1", "abc", "", "1.5", "²"]:
        with subtests.test(page=page, expect="first page"):
            response = client.get("/campaigns/", query_string={"page": page, "sort": "name"})
            assert listed(response)[:1] == ["Campaign 00"]


# --- bad query parameters -----------------------------------------------------------------------


BAD_PARAMS = [
    {"sort": "evil"},
    {"sort": "name; DROP TABLE campaigns"},
    {"dir": "sideways"},
    {"owner": "abc"},
    {"owner": "-1"},
    {"owner": "²"},
    {"owner": "99999999999999999999"},
    {"from": "notadate"},
    {"to": "2026-02-30"},
    {"from": "99999-01-01"},
    {"status": "bogus"},
    {"channel": "myspace"},
    {"channel": "%"},
]


def test_bad_query_params_are_ignored_not_500(client, marketer, subtests):
    make(marketer, "Still listed")
    db.session.commit()
    for params in BAD_PARAMS:
        with subtests.test(**params):
            response = client.get("/campaigns/", query_string=params)
            assert response.status_code == 200
            assert listed(response) == ["Still listed"]


# --- calendar -----------------------------------------------------------------------------------


@pytest.fixture
def march_flights(marketer):
    make(marketer, "Crosses into March", start_date=date(2026, 2, 20), end_date=date(2026, 3, 1))
    make(marketer, "Mid March", start_date=date(2026, 3, 10), end_date=date(2026, 3, 15))
    make(marketer, "Starts last day", start_date=date(2026, 3, 31), end_date=date(2026, 4, 10))
    make(marketer, "Whole spring", start_date=date(2026, 1, 1), end_date=date(2026, 6, 30))
    make(marketer, "April only", start_date=date(2026, 4, 1), end_date=date(2026, 4, 30))
    make(marketer, "Ends in February", start_date=date(2026, 2, 1), end_date=date(2026, 2, 28))
    make(marketer, "Archived March", status="archived")
    db.session.commit()


def test_calendar_shows_flights_overlapping_the_month(client, march_flights):
    response = client.get("/campaigns/calendar", query_string={"month": "2026-03"})
    html = response.get_data(as_text=True)
    assert "Calendar · March 2026" in html
    assert sorted(calendar_flights(response)) == [
        "Crosses into March",
        "Mid March",
        "Starts last day",
        "Whole spring",
    ]
    # The bar starts on its first day in the grid.
    assert 'title="Mid March (10 Mar 2026 – 15 Mar 2026)"' in html


def test_calendar_empty_month(client, march_flights):
    response = client.get("/campaigns/calendar", query_string={"month": "2025-11"})
    assert calendar_flights(response) == []
    assert "No campaign flies this month." in response.get_data(as_text=True)


def test_calendar_prev_and_next_links(client, marketer, subtests):
    for month, title, prev, next_ in [
        ("2026-03", "March 2026", "2026-02", "2026-04"),
        ("2026-01", "January 2026", "2025-12", "2026-02"),
        ("2026-12", "December 2026", "2026-11", "2027-01"),
        ("2024-02", "February 2024", "2024-01", "2024-03"),
    ]:
        with subtests.test(month=month):
            response = client.get("/campaigns/calendar", query_string={"month": month})
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert f"Calendar · {title}" in html
            assert f'href="/campaigns/calendar?month={prev}"' in html
            assert f'href="/campaigns/calendar?month={next_}"' in html


def test_calendar_bad_month_falls_back_to_this_month(client, marketer, subtests):
    title = date.today().strftime("%B %Y")
    for month in [
        "2026-13",
        "2026-00",
        "garbage",
        "2026",
        "2026-03-01",
        "-",
        "0001-01",
        "9999-12",
        "0-1",
        "",
        "²-1",
    ]:
        with subtests.test(month=month):
            response = client.get("/campaigns/calendar", query_string={"month": month})
            assert response.status_code == 200
            assert f"Calendar · {title}" in response.get_data(as_text=True)


def test_calendar_defaults_to_this_month_with_todays_flights(client, marketer):
    make(marketer, "Flying now", start_date=date.today(), end_date=date.today())
    db.session.commit()
    response = client.get("/campaigns/calendar")
    assert calendar_flights(response) == ["Flying now"]
    html = response.get_data(as_text=True)
    today_cell = rf'<td class="[^"]*\btoday\b[^"]*">\s*<span class="daynum">{date.today().day}<'
    assert re.search(today_cell, html)
