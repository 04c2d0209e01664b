"""The sync's fast path: rows straight to minor units, and later pages loaded by two threads.

The fast parser must agree with the Decimal one (`parse_insight_row` + Money's rounding) on
every row Meta could send; the page pipeline must give the same rows, errors in page order,
and leave no thread behind when the caller stops early.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ads.meta import (
    LEAD_TYPES,
    PURCHASE_TYPES,
    MetaError,
    RateLimited,
    TokenInvalid,
    TransientError,
    parse_insight_row,
    parse_minor_row,
    to_minor,
)
from ads.meta_pages import RawPage, next_cursor, pipelined, tail_paging
from core.money import Money

NEEDS_APP = False  # no database: see _app_context in conftest.py

OTHER_TYPES = ("link_click", "landing_page_view", "add_to_cart", "onsite_conversion.purchase")

# -- to_minor and parse_minor_row against the Decimal path ---------------------------------------


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [
        ("12.34", 2, 1234),
        ("12", 2, 1200),
        ("12.3", 2, 1230),
        ("0.005", 2, 0),  # half-even: 0.5 cent rounds to the even 0
        ("0.015", 2, 2),
        ("12.345", 2, 1234),
        ("1234", 0, 1234),
        ("1234.5", 0, 1234),
        ("1235.5", 0, 1236),
        ("1.2e2", 2, 12000),
        (" 7.50 ", 2, 750),
        ("", 2, 0),
        (None, 2, 0),
        (3, 2, 300),
        ("12.345", 3, 12345),
    ],
)
def test_to_minor_rounds_half_even_once(text, decimals, minor):
    assert to_minor(text, decimals, "spend") == minor


@pytest.mark.parametrize("bad", ["12,34", "abc", "NaN", "Infinity", "1.2.3", "-"])
def test_to_minor_refuses_what_is_not_a_number(bad):
    with pytest.raises(MetaError, match="not a number"):
        to_minor(bad, 2, "spend")


amounts = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False).map(
    str
) | st.sampled_from(["0", "0.00", "5", "1e3", "2.5E1", "0.125", "99.995"])
counts = st.integers(min_value=0, max_value=10**6).map(str)
action_types = st.sampled_from(PURCHASE_TYPES + LEAD_TYPES + OTHER_TYPES)


def _entries(values):
    return st.lists(st.tuples(action_types, values), max_size=8).map(
        lambda pairs: [{"action_type": t, "value": v} for t, v in pairs]
    )


rows = st.fixed_dictionaries(
    {
        "campaign_id": st.just("238"),
        "campaign_name": st.text(max_size=20),
        "adset_id": st.just("2381"),
        "ad_id": st.just("23811"),
        "ad_name": st.text(max_size=20),
        "date_start": st.dates().map(lambda d: d.isoformat()),
        "attribution_setting": st.just("7d_click_1d_view"),
    },
    optional={
        "spend": amounts,
        "impressions": counts,
        "clicks": counts,
        "reach": counts,
        "actions": _entries(counts),
        "action_values": _entries(amounts),
    },
)


@settings(max_examples=300, deadline=None)
@given(row=rows, currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_fast_parser_agrees_with_the_decimal_parser(row, currency):
    decimals = {"EUR": 2, "JPY": 0, "BHD": 3}[currency]
    slow = parse_insight_row(row)
    fast = parse_minor_row(row, decimals)

    def minor(amount: Decimal) -> int:
        return Money.of(amount, currency, strict=False).minor

    assert fast.spend_minor == minor(slow.spend)
    assert fast.purchase_value_minor == minor(slow.purchase_value)
    assert (fast.purchases, fast.leads) == (int(slow.purchases), int(slow.leads))
    assert (fast.impressions, fast.clicks, fast.reach) == (
        slow.impressions,
        slow.clicks,
        slow.reach,
    )
    assert (fast.date, fast.ad_id, fast.ad_name) == (slow.date, slow.ad_id, slow.ad_name)


def test_fast_parser_refuses_broken_rows_with_a_clear_message():
    base = {"date_start": "2026-03-01", "spend": "1.00"}
    with pytest.raises(MetaError, match="date_start"):
        parse_minor_row(base | {"date_start": "yesterday"}, 2)
    with pytest.raises(MetaError, match="not an object"):
        parse_minor_row(["not", "a", "row"], 2)  # type: ignore[arg-type]
    with pytest.raises(MetaError, match="impressions"):
        parse_minor_row(base | {"impressions": "12.5"}, 2)
    purchases = [{"action_type": "purchase", "value": "many"}]
    with pytest.raises(MetaError, match=r"actions\[purchase\]"):
        parse_minor_row(base | {"actions": purchases}, 2)


# -- reading the cursor from the tail of a page ---------------------------------------------------


def _body(rows: list, paging: dict | None, *, paging_first: bool = False) -> bytes:
    body = {"data": rows} if paging is None else {"data": rows, "paging": paging}
    if paging_first and paging is not None:
        body = {"paging": paging, "data": rows}
    return json.dumps(body, separators=(",", ":")).encode()


PAGING = {"cursors": {"before": "b0", "after": "a1"}, "next": "https://graph/...&after=a1"}


def test_tail_paging_reads_a_trailing_paging_object():
    rows = [{"ad_name": 'say "paging": {}'}, {"ad_name": "paging"}]
    assert tail_paging(_body(rows, PAGING)) == PAGING
    assert next_cursor(tail_paging(_body(rows, PAGING))) == "a1"
    spaced = json.dumps({"data": rows, "paging": PAGING}, indent=2).encode()
    assert tail_paging(spaced) == PAGING


@pytest.mark.parametrize(
    "body",
    [
        _body([{"x": 1}], None),  # no paging at all
        _body([{"action_type": "paging"}], None),  # the word as a value inside the rows
        _body([{"paging": {"cursors": {"after": "fake"}}}], None),  # as a key inside a row
        _body([{"ad_name": "x"}, {"paging": "x"}], PAGING, paging_first=True),
        b"<html>paging</html>",
    ],
)
def test_tail_paging_gives_up_rather_than_guess(body):
    # Not a trailing top-level "paging" object: the caller decodes the whole page instead.
    assert tail_paging(body) is None


def test_next_cursor_follows_the_sdk_rule():
    assert next_cursor({"cursors": {"after": "a"}}) is None  # no "next": the last page
    assert next_cursor({"next": "x", "cursors": {}}) is None
    assert next_cursor({"next": "x", "cursors": {"after": ""}}) is None
    assert next_cursor(None) is None


# -- the two-thread pipeline ---------------------------------------------------------------------


def _fake_pages(n: int, *, fail_at: int | None = None, error: Exception | None = None):
    """fetch/decode for `n` pages of 3 numbered rows; `error` raised when fetching `fail_at`."""
    fetched: list[str] = []

    def fetch(cursor: str) -> RawPage:
        index = int(cursor)
        fetched.append(cursor)
        if index == fail_at:
            raise error or TransientError("network down")
        rows = [{"n": 3 * index + k} for k in range(3)]
        after = str(index + 1) if index + 1 < n else None
        return RawPage(200, json.dumps({"data": rows}).encode(), {}, after)

    def decode(raw: RawPage):
        rows = json.loads(raw.content)["data"]
        return rows or None

    return fetch, decode, fetched


def test_pipeline_yields_every_page_in_order():
    fetch, decode, _ = _fake_pages(25)
    pages = list(pipelined("0", fetch, decode, join_timeout=5))
    assert [row["n"] for page in pages for row in page] == list(range(75))


def test_pipeline_raises_a_fetch_error_after_the_pages_before_it():
    fetch, decode, _ = _fake_pages(10, fail_at=4, error=RateLimited("slow down", code=17))
    got = []
    with pytest.raises(RateLimited):
        for page in pipelined("0", fetch, decode, join_timeout=5):
            got.append(page)
    assert len(got) == 4


def test_pipeline_stops_its_threads_when_the_caller_stops():
    fetch, decode, fetched = _fake_pages(1000)
    before = threading.active_count()
    pages = pipelined("0", fetch, decode, join_timeout=5)
    first = [next(pages) for _ in range(3)]
    pages.close()
    assert len(first) == 3
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before
    assert len(fetched) < 10  # it kept only a few pages ahead, never ran to the end


def test_pipeline_ends_on_an_empty_page():
    def fetch(cursor: str) -> RawPage:
        rows = [] if cursor == "2" else [{"n": cursor}]
        return RawPage(200, json.dumps({"data": rows}).encode(), {}, str(int(cursor) + 1))

    pages = list(
        pipelined("0", fetch, lambda raw: json.loads(raw.content)["data"] or None, join_timeout=5)
    )
    assert pages == [[{"n": "0"}], [{"n": "1"}]]


# -- against the sandbox, over HTTP ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"error": "token_expired"}, TokenInvalid),
        ({"error": "server_error", "html": True}, TransientError),
        ({"error": "server_error"}, TransientError),
        ({"error": "rate_limit", "code": 17}, RateLimited),
    ],
)
@pytest.mark.parametrize("use_async", [False, True])
def test_an_error_on_a_later_page_keeps_its_class(sandbox, meta, fault, error, use_async):
    end = sandbox.data.end_date
    sandbox.state.set_faults({"fail_on_page": {"page": 4, **fault}})
    since = end - timedelta(days=20)
    got = []
    with pytest.raises(MetaError) as caught:
        for page in meta.iter_insights("act_1001", since, end, page_size=10, use_async=use_async):
            got.append(page)
    assert type(caught.value) is error
    assert len(got) == 3


def test_prepare_runs_ahead_and_its_errors_arrive_in_page_order(sandbox, meta):
    end = sandbox.data.end_date
    since = end - timedelta(days=20)
    seen: list[int] = []

    def prepare(data):
        seen.append(len(data))
        if len(seen) == 3:
            raise MetaError("Meta sent something odd on page 3")
        return sum(float(row.get("spend") or 0) for row in data)

    got = []
    with pytest.raises(MetaError, match="page 3"):
        for page in meta.iter_insights("act_1001", since, end, page_size=10, prepare=prepare):
            got.append(page)
    assert len(got) == 2
    assert all(p.prepared == sum(float(r.spend) for r in p.rows) for p in got)
