"""The Meta connector through facebook-business, over HTTP, against the Graph API sandbox."""

from __future__ import annotations

import socket
import sys
import traceback
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from facebook_business.api import FacebookAdsApi
from facebook_business.session import FacebookSession

from ads.meta import (
    InsightRow,
    MetaClient,
    MetaError,
    RateLimited,
    TokenInvalid,
    TooMuchData,
    TransientError,
    Usage,
    parse_insight_row,
)
from ads.sandbox.state import appsecret_proof

NEEDS_APP = False  # no database: see _app_context in conftest.py


def rows_of(pages) -> list[InsightRow]:
    return [row for page in pages for row in page.rows]


def assert_matches_truth(rows: list[InsightRow], truth: dict) -> None:
    assert len(rows) == truth["rows"]
    assert len({(r.ad_id, r.date) for r in rows}) == len(rows)
    assert sum(r.spend for r in rows) == truth["spend"]
    assert sum(r.impressions for r in rows) == truth["impressions"]
    assert sum(r.clicks for r in rows) == truth["clicks"]
    assert sum(r.inline_link_clicks for r in rows) == truth["inline_link_clicks"]
    assert sum(r.reach for r in rows) == truth["reach"]
    assert sum(r.purchases for r in rows) == truth["purchases"]
    assert sum(r.purchase_value for r in rows) == truth["purchase_value"]
    assert sum(r.leads for r in rows) == truth["leads"]


def last_days(sandbox, n: int) -> tuple[date, date]:
    end = sandbox.data.end_date
    return end - timedelta(days=n - 1), end


# -- reading --------------------------------------------------------------------------------------


def test_paged_rows_equal_the_ground_truth_exactly(sandbox, meta):
    since, until = last_days(sandbox, 10)
    pages = list(meta.iter_insights("act_1001", since, until, page_size=25))
    assert len(pages) > 2
    assert all(len(p.rows) == 25 for p in pages[:-1]) and 0 < len(pages[-1].rows) <= 25
    assert all(p.after_cursor for p in pages[:-1]) and pages[-1].after_cursor is None
    rows = rows_of(pages)
    assert_matches_truth(rows, sandbox.data.totals("act_1001", since, until))
    per_ad: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        per_ad[row.ad_id] += row.spend
        assert row.account_id == "act_1001" and row.currency == "EUR"
        assert row.attribution_setting == "7d_click_1d_view" and since <= row.date <= until
        assert isinstance(row.spend, Decimal) and isinstance(row.impressions, int)
    truth = sandbox.data.totals("act_1001", since, until, level="ad")["ads"]
    assert per_ad == {ad: t["spend"] for ad, t in truth.items()}
    assert sandbox.state.stats()["by_endpoint"] == {"insights": len(pages)}


def test_resume_from_a_pages_cursor(sandbox, meta):
    since, until = last_days(sandbox, 6)
    pages = list(meta.iter_insights("act_1002", since, until, page_size=10))
    assert len(pages) >= 4
    resumed = list(
        meta.iter_insights("act_1002", since, until, page_size=10, after=pages[1].after_cursor)
    )
    assert rows_of(resumed) == rows_of(pages[2:])


def test_async_report_run_gives_the_same_rows(sandbox, meta):
    since, until = last_days(sandbox, 8)
    direct = rows_of(meta.iter_insights("act_1001", since, until, page_size=40))
    sandbox.state.reset_stats()
    pages = list(meta.iter_insights("act_1001", since, until, page_size=40, use_async=True))
    assert rows_of(pages) == direct
    stats = sandbox.state.stats()["by_endpoint"]
    assert stats["insights_async"] == 1
    assert stats["report_status"] == sandbox.data.async_polls  # polled until "Job Completed"
    assert stats["report_results"] == len(pages) > 1 and "insights" not in stats


def test_long_windows_go_async_by_themselves(sandbox, meta):
    since, until = sandbox.data.start_date, sandbox.data.end_date
    rows = rows_of(meta.iter_insights("act_1003", since, until, page_size=500))
    assert sandbox.state.stats()["by_endpoint"].get("insights_async") == 1
    assert_matches_truth(rows, sandbox.data.totals("act_1003", since, until))
    sandbox.state.reset_stats()
    list(meta.iter_insights("act_1003", until - timedelta(days=30), until))
    assert "insights_async" not in sandbox.state.stats()["by_endpoint"]


def test_a_failed_report_run_is_resubmitted_once(sandbox, meta):
    since, until = last_days(sandbox, 3)
    sandbox.state.set_faults({"job_failed": True})
    rows = rows_of(meta.iter_insights("act_1001", since, until, use_async=True))
    assert_matches_truth(rows, sandbox.data.totals("act_1001", since, until))
    assert sandbox.state.stats()["report_runs"] == 2
    sandbox.state.set_faults({"job_failed": {"count": 2, "status": "Job Skipped"}})
    with pytest.raises(TooMuchData, match="Job Skipped' twice"):
        meta.iter_insights("act_1001", since, until, use_async=True)


def test_a_report_run_that_never_finishes_times_out(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox.data, "async_polls", 10_000)
    client = MetaClient("sandbox-token", graph_url=sandbox.url, poll_interval=0.01, max_wait=0.2)
    since, until = last_days(sandbox, 2)
    with pytest.raises(TransientError, match="still 'Job Running'"):
        client.iter_insights("act_1001", since, until, use_async=True)


def test_campaigns_and_account_facts(sandbox, meta):
    campaigns = meta.list_campaigns("act_1002")
    expected = sandbox.data.campaigns_of("act_1002")
    assert [(c.id, c.name, c.status, c.objective) for c in campaigns] == [
        (c.id, c.name, c.status, c.objective) for c in expected
    ]
    info = meta.get_account("1003")
    assert (info.id, info.currency, info.timezone, info.status) == (
        "act_1003",
        "JPY",
        "Asia/Tokyo",
        1,
    )


def test_jpy_amounts_have_no_decimals(sandbox, meta):
    since, until = last_days(sandbox, 5)
    rows = rows_of(meta.iter_insights("act_1003", since, until))
    assert rows and all(r.currency == "JPY" for r in rows)
    for row in rows:
        assert row.spend.as_tuple().exponent == 0 and row.spend >= 100
        assert row.purchase_value.as_tuple().exponent == 0
    assert_matches_truth(rows, sandbox.data.totals("act_1003", since, until))


def test_purchases_use_the_fallback_order_over_real_rows(sandbox, meta):
    since, until = sandbox.data.start_date, sandbox.data.end_date
    rows = rows_of(meta.iter_insights("act_1001", since, until, use_async=False, page_size=500))
    chosen = {r.purchase_type for r in rows}
    assert {"omni_purchase", "offsite_conversion.fb_pixel_purchase", ""} <= chosen
    assert_matches_truth(rows, sandbox.data.totals("act_1001", since, until))


def test_restatement_changes_only_the_recent_days(sandbox, meta):
    since, until = last_days(sandbox, 6)
    before = {(r.ad_id, r.date): r for r in rows_of(meta.iter_insights("act_1001", since, until))}
    with requests.Session() as http:
        http.trust_env = False
        armed = http.post(f"{sandbox.url}/__sandbox/faults", json={"restate": {"days": 3}})
    assert armed.json()["restated"] is True
    after = {(r.ad_id, r.date): r for r in rows_of(meta.iter_insights("act_1001", since, until))}
    assert before.keys() == after.keys()
    cutoff = until - timedelta(days=3)
    recent = [k for k in before if k[1] > cutoff]
    assert recent and all(before[k] == after[k] for k in before if k[1] <= cutoff)
    for key in recent:
        old, new = before[key], after[key]
        assert new.spend > old.spend
        assert new.purchases + new.leads == old.purchases + old.leads + 1
    assert_matches_truth(list(after.values()), sandbox.data.totals("act_1001", since, until))


def test_usage_is_read_from_headers(sandbox, meta):
    since, until = last_days(sandbox, 2)
    calm = next(iter(meta.iter_insights("act_1001", since, until))).usage
    assert not calm.should_slow_down and calm.regain_seconds is None
    sandbox.state.set_faults({"usage": {"pct": 80, "count": "always"}})
    busy = next(iter(meta.iter_insights("act_1001", since, until))).usage
    assert busy.should_slow_down and busy.max_pct == 80


# -- errors ---------------------------------------------------------------------------------------

FAULTS = [
    ({"rate_limit": {"code": 17, "reset_seconds": 120}}, RateLimited, 17, 2446079, 120.0),
    ({"rate_limit": {"code": 80000, "regain_minutes": 3}}, RateLimited, 80000, 2446079, 180.0),
    ({"rate_limit": {"code": 4, "reset_seconds": 0}}, RateLimited, 4, None, None),
    ({"server_error": True}, TransientError, 2, None, None),
    ({"server_error": {"html": True}}, TransientError, None, None, None),
    # An HTML page containing "data"/"paging" trips the SDK into a TypeError, not its own error.
    (
        {"server_error": {"html": True, "text": "<p>no data, no paging, no ads</p>"}},
        TransientError,
        None,
        None,
        None,
    ),
    (
        {"server_error": {"html": True, "status": 503, "text": "Service Unavailable"}},
        TransientError,
        None,
        None,
        None,
    ),
    ({"token_expired": True}, TokenInvalid, 190, 463, None),
    ({"too_much_data": True}, TooMuchData, 100, 1487534, None),
    ({"too_much_data": {"code": 1}}, TooMuchData, 1, None, None),  # not a mere transient 1
]


@pytest.mark.parametrize(("fault", "error", "code", "subcode", "retry_after"), FAULTS)
@pytest.mark.parametrize("call", ["insights", "async", "campaigns", "account"])
def test_errors_map_to_classes(sandbox, meta, fault, error, code, subcode, retry_after, call):
    since, until = last_days(sandbox, 3)
    sandbox.state.set_faults(fault)
    with pytest.raises(MetaError) as caught:
        if call == "insights":
            meta.iter_insights("act_1001", since, until)
        elif call == "async":
            meta.iter_insights("act_1001", since, until, use_async=True)
        elif call == "campaigns":
            meta.list_campaigns("act_1001")
        else:
            meta.get_account("act_1001")
    exc = caught.value
    assert type(exc) is error
    assert (exc.code, exc.subcode, exc.retry_after) == (code, subcode, retry_after)
    if error is TokenInvalid:
        assert str(exc).startswith("access token expired (190/463): Error validating")


def test_an_error_on_page_k_arrives_mid_iteration(sandbox, meta):
    since, until = last_days(sandbox, 10)
    sandbox.state.set_faults({"fail_on_page": {"page": 3, "error": "rate_limit", "code": 80000}})
    pages = meta.iter_insights("act_1001", since, until, page_size=20)  # page 1 loads here
    got = []
    with pytest.raises(RateLimited) as caught:
        for page in pages:
            got.append(page)
    assert len(got) == 2 and caught.value.retry_after == 300.0
    # The caller resumes from the last page it committed.
    rest = rows_of(
        meta.iter_insights("act_1001", since, until, page_size=20, after=got[-1].after_cursor)
    )
    assert_matches_truth(rows_of(got) + rest, sandbox.data.totals("act_1001", since, until))


def test_unknown_token_and_unknown_account(sandbox):
    client = MetaClient("not-a-token", graph_url=sandbox.url)
    with pytest.raises(TokenInvalid, match=r"^access token invalid \(190\): Invalid OAuth"):
        client.get_account("act_1001")
    with pytest.raises(MetaError) as caught:
        MetaClient("sandbox-token", graph_url=sandbox.url).get_account("act_777")
    assert (caught.value.code, caught.value.subcode) == (100, 33)
    with pytest.raises(ValueError):
        client.get_account("campaign_12")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_network_failures_are_transient():
    client = MetaClient("sandbox-token", graph_url=f"http://127.0.0.1:{closed_port()}", timeout=2)
    with pytest.raises(TransientError, match="network error"):
        client.list_campaigns("act_1001")


def test_the_token_never_appears_in_error_text(sandbox, secret_token):
    since, until = last_days(sandbox, 3)
    client = MetaClient(secret_token, graph_url=sandbox.url, app_secret="shh", poll_interval=0.01)
    monkey_secret = appsecret_proof("shh", secret_token)
    scenarios = [fault for fault, *_ in FAULTS] + [{"fail_on_page": {"page": 2}}]
    errors: list[BaseException] = []
    for fault in scenarios:
        sandbox.state.reset()
        sandbox.state.set_faults(fault)
        try:
            list(client.iter_insights("act_1001", since, until, page_size=5))
        except MetaError as exc:
            errors.append(exc)
    offline = MetaClient(secret_token, graph_url=f"http://127.0.0.1:{closed_port()}")
    # Meta echoes a token it cannot parse ("Malformed access token EAA..."): we must not.
    unknown_token = "EAA" + secret_token[::-1]
    unknown = MetaClient(unknown_token, graph_url=sandbox.url)
    for call in (offline.get_account, unknown.get_account):
        try:
            call("act_1001")
        except MetaError as exc:
            errors.append(exc)
    assert len(errors) == len(scenarios) + 2
    assert isinstance(errors[-1], TokenInvalid)
    for exc in errors:
        text = str(exc) + repr(exc) + "".join(traceback.format_exception(exc))
        assert secret_token not in text and monkey_secret not in text
        assert unknown_token not in text
    assert secret_token not in repr(client)


# -- the connector keeps to itself ------------------------------------------------------------


def test_client_sets_nothing_global_and_ignores_proxies_for_loopback(sandbox, monkeypatch):
    hook = sys.excepthook
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = MetaClient("sandbox-token", graph_url=sandbox.url, timeout=7)
    assert client.get_account("act_1001").currency == "EUR"  # not sent to the dead proxy
    assert FacebookAdsApi.get_default_api() is None
    assert FacebookSession.GRAPH == "https://graph.facebook.com"
    assert sys.excepthook is hook
    session = client.api._session
    assert session.timeout == 7 and sandbox.url == session.GRAPH
    assert session.requests.trust_env is False
    remote = MetaClient("sandbox-token").api._session
    assert remote.requests.trust_env is True and remote.GRAPH == "https://graph.facebook.com"


def test_appsecret_proof_is_sent_when_configured(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox.data, "app_secret", "app-secret-1")
    with pytest.raises(MetaError, match="appsecret_proof"):
        MetaClient("sandbox-token", graph_url=sandbox.url).get_account("act_1001")
    with pytest.raises(MetaError, match="Invalid appsecret_proof"):
        MetaClient("sandbox-token", graph_url=sandbox.url, app_secret="wrong").get_account("1001")
    client = MetaClient("sandbox-token", graph_url=sandbox.url, app_secret="app-secret-1")
    assert client.get_account("act_1001").name == "Flightdeck Demo EU"


# -- parsing rows ---------------------------------------------------------------------------------

BASE = {
    "account_id": "42",
    "account_currency": "EUR",
    "campaign_id": "1",
    "ad_id": "3",
    "date_start": "2026-03-01",
    "date_stop": "2026-03-01",
}


def actions(**counts: str) -> list[dict[str, str]]:
    return [{"action_type": k.replace("__", "."), "value": v} for k, v in counts.items()]


def test_overlapping_purchase_types_are_never_summed():
    row = parse_insight_row(
        BASE
        | {
            "actions": actions(
                link_click="40",
                omni_purchase="3",
                purchase="3",
                offsite_conversion__fb_pixel_purchase="3",
            ),
            "action_values": actions(
                omni_purchase="90.30",
                purchase="90.30",
                offsite_conversion__fb_pixel_purchase="90.30",
            ),
        }
    )
    assert (row.purchases, row.purchase_value, row.purchase_type) == (
        Decimal(3),
        Decimal("90.30"),
        "omni_purchase",
    )


def test_purchase_fallback_order_and_value_from_the_same_type():
    mixed = parse_insight_row(
        BASE
        | {
            "actions": actions(
                offsite_conversion__fb_pixel_purchase="3",
                onsite_conversion__purchase="2",
                purchase="5",
            ),
            "action_values": actions(offsite_conversion__fb_pixel_purchase="30", purchase="55.5"),
        }
    )
    assert (mixed.purchases, mixed.purchase_value, mixed.purchase_type) == (
        Decimal(5),
        Decimal("55.5"),
        "purchase",
    )
    pixel = parse_insight_row(
        BASE
        | {
            "actions": actions(offsite_conversion__fb_pixel_purchase="2"),
            "action_values": actions(offsite_conversion__fb_pixel_purchase="19.98"),
        }
    )
    assert (pixel.purchases, pixel.purchase_value) == (Decimal(2), Decimal("19.98"))


def test_leads_fallback_and_missing_metrics_are_zero():
    row = parse_insight_row(
        BASE
        | {
            "spend": "0.10",
            "actions": actions(onsite_conversion__lead_grouped="4", landing_page_view="9"),
        }
    )
    assert row.leads == 4 and row.purchases == 0 and row.purchase_value == 0
    assert (row.impressions, row.clicks, row.reach, row.inline_link_clicks) == (0, 0, 0, 0)
    assert row.spend + parse_insight_row(BASE | {"spend": "0.20"}).spend == Decimal("0.30")
    both = parse_insight_row(
        BASE | {"actions": actions(lead="2", offsite_conversion__fb_pixel_lead="2")}
    )
    assert both.leads == 2 and both.account_id == "act_42"
    with pytest.raises(MetaError):
        parse_insight_row(BASE | {"spend": "12,34"})


def test_usage_headers_parse():
    usage = Usage.from_headers(
        {
            "x-business-use-case-usage": '{"1": [{"type": "ads_insights", "call_count": 12, '
            '"total_cputime": 76, "total_time": 40, "estimated_time_to_regain_access": 0}]}',
            "X-Ad-Account-Usage": '{"acc_id_util_pct": 9.5, "reset_time_duration": 45}',
            "X-FB-Ads-Insights-Throttle": '{"app_id_util_pct": 3, "acc_id_util_pct": 20}',
        }
    )
    assert usage.business_pct == 76 and usage.account_pct == 9.5 and usage.insights_pct == 20
    assert usage.should_slow_down and usage.regain_seconds == 45
    assert not Usage.from_headers({"X-Ad-Account-Usage": "not json"}).should_slow_down
    assert Usage.from_headers(None).regain_seconds is None
