"""The Graph API sandbox over real HTTP: the wire format Meta uses, paging, faults, ground truth."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import requests

from ads.sandbox import SandboxData, create_sandbox_app
from ads.sandbox.data import PURCHASE_TYPES
from ads.sandbox.insights import InsightsPager, InsightsQuery, encode_cursor

ALL_FIELDS = (
    "account_id,account_currency,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,"
    "spend,impressions,clicks,inline_link_clicks,reach,actions,action_values,attribution_setting"
)

NEEDS_APP = False  # no database: see _app_context in conftest.py


def window(since: date, until: date) -> str:
    return json.dumps({"since": since.isoformat(), "until": until.isoformat()})


def all_rows(graph, path: str, **params) -> list[dict]:
    """Follow `paging.next` (a full URL carrying every parameter, as Meta's does) to the end."""
    rows: list[dict] = []
    while True:
        response = graph(path, **params)
        body = response.json()
        assert response.status_code == 200, body
        rows += body["data"]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return rows
        path, _, query = nxt.partition("?")
        params = dict(parse_qsl(query))


def active_ads(sandbox, account: str, day: date) -> int:
    index = sandbox.data.day_index(day)
    return sum(1 for ad in sandbox.data.ads_of(account) if ad.start <= index <= ad.stop)


def test_rows_look_like_metas(sandbox, graph):
    end = sandbox.data.end_date
    r = graph(
        "act_1001/insights",
        level="ad",
        time_range=window(end - timedelta(days=1), end),
        time_increment=1,
        fields=ALL_FIELDS,
        limit=500,
    )
    assert r.status_code == 200
    rows = r.json()["data"]
    yesterday = end - timedelta(days=1)
    expected = active_ads(sandbox, "act_1001", end) + active_ads(sandbox, "act_1001", yesterday)
    assert len(rows) == expected > 0
    for row in rows:
        assert row["account_id"] == "1001" and row["account_currency"] == "EUR"
        assert row["date_start"] == row["date_stop"]
        assert row["attribution_setting"] == "7d_click_1d_view"
        for name in ("spend", "impressions", "clicks", "reach", "inline_link_clicks"):
            assert isinstance(row[name], str)
        assert len(row["spend"].split(".")[1]) == 2
        assert int(row["clicks"]) <= int(row["impressions"])
        assert int(row["reach"]) <= int(row["impressions"])
        assert int(row["inline_link_clicks"]) <= int(row["clicks"])
        for action in row.get("actions", []) + row.get("action_values", []):
            assert set(action) == {"action_type", "value"} and isinstance(action["value"], str)
            assert Decimal(action["value"]) > 0  # empty metrics are omitted, never "0"


def test_only_requested_fields_come_back(sandbox, graph):
    end = sandbox.data.end_date
    r = graph("act_1002/insights", level="campaign", time_range=window(end, end), fields="spend")
    rows = r.json()["data"]
    assert rows and all(set(row) == {"spend", "date_start", "date_stop"} for row in rows)
    r = graph("act_1002/insights", time_range=window(end, end), fields="spend,cpm_magic")
    assert r.status_code == 400 and r.json()["error"]["code"] == 100


def test_purchase_types_overlap_and_some_days_have_only_the_pixel(sandbox, graph):
    data = sandbox.data
    rows = all_rows(
        graph,
        "act_1001/insights",
        level="ad",
        time_range=window(data.start_date, data.end_date),
        time_increment=1,
        fields="ad_id,actions,action_values",
        limit=1000,
    )
    kinds = {"all_equal": 0, "pixel_only": 0, "mixed": 0, "none": 0}
    for row in rows:
        actions = {a["action_type"]: int(a["value"]) for a in row.get("actions", [])}
        present = [t for t in PURCHASE_TYPES if t in actions]
        if not present:
            kinds["none"] += 1
        elif present == ["offsite_conversion.fb_pixel_purchase"]:
            kinds["pixel_only"] += 1
        elif "onsite_conversion.purchase" in actions:
            assert actions["omni_purchase"] == actions["purchase"]
            pixel, onsite = (
                actions["offsite_conversion.fb_pixel_purchase"],
                actions["onsite_conversion.purchase"],
            )
            assert pixel + onsite == actions["omni_purchase"]
            kinds["mixed"] += 1
        else:
            assert len({actions[t] for t in PURCHASE_TYPES}) == 1, actions
            kinds["all_equal"] += 1
        if "lead" in actions:
            assert actions["lead"] == actions["offsite_conversion.fb_pixel_lead"]
        assert "link_click" in actions  # noise types are always there
    assert all(kinds.values()), kinds


def test_paging_follows_next_until_the_last_page(sandbox, graph):
    end = sandbox.data.end_date
    since = end - timedelta(days=6)
    params = {
        "level": "ad",
        "time_range": window(since, end),
        "time_increment": 1,
        "fields": "ad_id,spend",
        "limit": 7,
    }
    first = graph("act_1001/insights", **params).json()
    assert len(first["data"]) == 7 and "next" in first["paging"]
    assert first["paging"]["next"].startswith(sandbox.url)
    rows = all_rows(graph, "act_1001/insights", **params)
    truth = sandbox.data.totals("act_1001", since, end)
    assert len(rows) == truth["rows"] > 14
    assert len({(r["ad_id"], r["date_start"]) for r in rows}) == len(rows)
    assert sum(Decimal(r["spend"]) for r in rows) == truth["spend"]
    # The last page keeps its cursors but has no "next".
    offset_last = (len(rows) - 1) // 7 * 7
    last = graph("act_1001/insights", **params, after=encode_cursor(offset_last)).json()
    assert "cursors" in last["paging"] and "next" not in last["paging"]
    beyond = graph("act_1001/insights", **params, after=encode_cursor(len(rows))).json()
    assert beyond == {"data": []}


def test_all_days_gives_one_row_per_object(sandbox, graph):
    data = sandbox.data
    since, until = data.end_date - timedelta(days=29), data.end_date
    r = graph(
        "act_1001/insights",
        level="campaign",
        time_range=window(since, until),
        fields="campaign_id,spend,actions",
    )
    rows = r.json()["data"]
    truth = data.totals("act_1001", since, until, level="campaign")
    assert {row["campaign_id"] for row in rows} == set(truth["campaigns"])
    assert all((row["date_start"], row["date_stop"]) == (str(since), str(until)) for row in rows)
    for row in rows:
        assert Decimal(row["spend"]) == truth["campaigns"][row["campaign_id"]]["spend"]


def test_tokens_accounts_and_versions_are_checked(sandbox, graph):
    r = graph("act_1001", access_token="not-a-token", fields="name")
    error = r.json()["error"]
    assert r.status_code == 400
    assert (error["code"], error["type"]) == (190, "OAuthException") and error["fbtrace_id"]
    assert graph("act_1001", access_token="").json()["error"]["code"] == 104
    r = graph("act_4242", fields="name")
    assert (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 33)
    expected = {"name": "Flightdeck Demo EU", "id": "act_1001"}
    assert graph("act_1001", fields="name").json() == expected
    r = graph(f"{sandbox.url}/v19.0/act_1003", fields="currency,timezone_name")
    assert r.json() == {"currency": "JPY", "timezone_name": "Asia/Tokyo", "id": "act_1003"}


def test_usage_headers_on_success_and_error(sandbox, graph):
    end = sandbox.data.end_date
    ok = graph("act_1002/insights", time_range=window(end, end), fields="spend")
    bad = graph("act_1002/insights", time_range="nonsense", fields="spend")
    assert ok.status_code == 200 and bad.status_code == 400
    for response in (ok, bad):
        buc = json.loads(response.headers["X-Business-Use-Case-Usage"])
        assert buc["1002"][0]["type"] == "ads_insights"
        assert buc["1002"][0]["estimated_time_to_regain_access"] == 0
        assert "acc_id_util_pct" in json.loads(response.headers["X-Ad-Account-Usage"])
        assert "app_id_util_pct" in json.loads(response.headers["x-fb-ads-insights-throttle"])


def test_faults_arm_count_down_and_reset_over_http(sandbox, graph):
    faults = f"{sandbox.url}/__sandbox/faults"
    session_post = requests.Session()
    session_post.trust_env = False
    armed = session_post.post(
        faults, json={"rate_limit": {"code": 80000, "regain_minutes": 2, "count": 2}}, timeout=5
    ).json()
    assert armed["faults"]["rate_limit"]["count"] == 2
    for _ in range(2):
        r = graph("act_1001", fields="name")
        assert r.status_code == 400
        error = r.json()["error"]
        assert (error["code"], error["error_subcode"], error["is_transient"]) == (
            80000,
            2446079,
            True,
        )
        buc = json.loads(r.headers["X-Business-Use-Case-Usage"])["1001"][0]
        assert buc["estimated_time_to_regain_access"] == 2 and buc["call_count"] >= 100
    assert graph("act_1001", fields="name").status_code == 200
    session_post.post(faults, json={"token_expired": "always"}, timeout=5)
    for _ in range(3):
        error = graph("act_1001").json()["error"]
        assert (error["code"], error["error_subcode"]) == (190, 463)
    assert session_post.delete(faults, timeout=5).json() == {"faults": {}, "restated": False}
    assert graph("act_1001").status_code == 200
    assert session_post.post(faults, json={"meteor": True}, timeout=5).status_code == 400
    session_post.close()


def test_server_errors_as_json_and_as_html(sandbox, graph):
    sandbox.state.set_faults({"server_error": True})
    r = graph("act_1001")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == 2 and r.json()["error"]["is_transient"] is True
    sandbox.state.set_faults({"server_error": {"html": True}})
    r = graph("act_1001")
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>")
    sandbox.state.set_faults({"too_much_data": {"match": "insights"}})
    assert graph("act_1001").status_code == 200  # does not match: still armed
    end = sandbox.data.end_date
    r = graph("act_1001/insights", time_range=window(end, end))
    assert (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 1487534)


def test_fail_on_page_fails_mid_read_only(sandbox, graph):
    end = sandbox.data.end_date
    params = {"level": "ad", "time_range": window(end - timedelta(days=3), end), "limit": 5}
    sandbox.state.set_faults({"fail_on_page": {"page": 2}})
    first = graph("act_1001/insights", **params).json()
    nxt = first["paging"]["cursors"]["after"]
    failed = graph("act_1001/insights", **params, after=nxt)
    assert failed.status_code == 500
    again = graph("act_1001/insights", **params, after=nxt)
    assert again.status_code == 200 and len(again.json()["data"]) == 5


def test_slow_fault_delays_the_answer(sandbox, graph):
    sandbox.state.set_faults({"slow": {"seconds": 0.6}})
    started = time.monotonic()
    assert graph("act_1001").status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    graph("act_1001")  # the fault was for one request only
    assert time.monotonic() - started < 0.6


def test_report_run_progresses_then_serves_the_rows(sandbox, graph):
    end = sandbox.data.end_date
    query = {
        "level": "ad",
        "time_range": window(end - timedelta(days=4), end),
        "time_increment": "1",
        "fields": json.dumps(["ad_id", "spend", "actions"]),
    }
    run_id = graph("act_1002/insights", method="POST", **query).json()["report_run_id"]
    premature = graph(f"{run_id}/insights")
    assert premature.status_code == 400
    fields = "async_status,async_percent_completion"
    seen = [graph(f"{run_id}/", fields=fields).json() for _ in range(3)]
    assert [(s["async_status"], s["async_percent_completion"]) for s in seen] == [
        ("Job Not Started", 0),
        ("Job Running", 100),  # 100% is not "done": only the status says so
        ("Job Completed", 100),
    ]
    assert graph(run_id, fields=fields).json()["async_status"] == "Job Completed"
    rows = all_rows(graph, f"{run_id}/insights", limit=9)
    direct = all_rows(graph, "act_1002/insights", **query | {"fields": "ad_id,spend,actions"})
    assert rows == direct and len(rows) > 9


def test_truth_endpoint_and_restatement(sandbox, graph):
    data = sandbox.data
    end = data.end_date
    since = end - timedelta(days=5)
    args = {"account_id": "act_1001", "since": str(since), "until": str(end), "level": "ad"}
    before = graph(f"{sandbox.url}/__sandbox/truth", **args).json()
    expected = data.totals("act_1001", since, end, level="ad")
    assert before["spend"] == str(expected["spend"]) and before["rows"] == str(expected["rows"])
    assert before["ads"].keys() == expected["ads"].keys()
    sandbox.state.set_faults({"restate": True})
    after = graph(f"{sandbox.url}/__sandbox/truth", **args).json()
    assert Decimal(after["spend"]) > Decimal(before["spend"])
    old = graph(
        f"{sandbox.url}/__sandbox/truth", **args | {"until": str(end - timedelta(days=3))}
    ).json()
    old_before = data.totals("act_1001", since, end - timedelta(days=3), restated=False)
    assert old["spend"] == str(old_before["spend"])  # days before the window never move
    served = graph(
        "act_1001/insights", level="account", time_range=window(since, end), fields="spend"
    ).json()["data"][0]
    assert served["spend"] == after["spend"]


def test_stats_count_requests(sandbox, graph):
    graph("act_1001")
    graph("act_1003/campaigns")
    graph("act_1001", access_token="nope")
    stats = graph(f"{sandbox.url}/__sandbox/stats").json()
    assert stats["requests"] == 3 and stats["errors"] == 1
    assert stats["by_endpoint"] == {"account": 2, "campaigns": 1}
    assert stats["by_account"] == {"act_1001": 1, "act_1003": 1}


def test_campaigns_page_and_some_carry_mapping_tags(sandbox, graph):
    rows = all_rows(graph, "act_1001/campaigns", fields="id,name,status,objective", limit=2)
    assert [r["id"] for r in rows] == [c.id for c in sandbox.data.campaigns_of("act_1001")]
    tagged = [r for r in rows if "[FD-" in r["name"]]
    assert 0 < len(tagged) < len(rows)
    summary = graph("act_1001/campaigns", summary="true").json()["summary"]
    assert summary == {"total_count": len(rows)}


def test_data_is_deterministic_per_seed_and_jpy_is_whole_yen():
    a, b, c = (SandboxData(seed=s, end_date=date(2026, 1, 31), days=30) for s in (1, 1, 2))
    since, until = date(2026, 1, 1), date(2026, 1, 31)
    assert a.totals("act_1001", since, until) == b.totals("act_1001", since, until)
    assert a.totals("act_1001", since, until) != c.totals("act_1001", since, until)
    yen = a.totals("act_1003", since, until)
    assert yen["spend"] == yen["spend"].to_integral_value() and yen["spend"] > 1000


def test_large_accounts_are_paged_lazily(monkeypatch):
    data = SandboxData(
        seed=3,
        end_date=date(2026, 3, 31),
        days=365,
        campaigns=10,
        adsets_per_campaign=4,
        ads_per_adset=5,
    )
    ads = data.ads_of("act_1001")
    assert len(ads) == 200
    calls = []
    real = data.ad_day
    monkeypatch.setattr(data, "ad_day", lambda *a, **k: calls.append(1) or real(*a, **k))
    query = InsightsQuery.parse(
        data.account("act_1001"),
        {
            "level": "ad",
            "time_range": window(date(2025, 4, 1), date(2026, 3, 31)),
            "time_increment": "1",
            "fields": "spend",
        },
    )
    pager = InsightsPager(data, query)
    assert pager.count() == sum(ad.stop - ad.start + 1 for ad in ads) > 50_000
    assert calls == []  # counting rows generates none
    page = pager.page(30_000, 500)
    assert len(page) == 500 and len(calls) == 500
    client = create_sandbox_app(data).test_client()
    r = client.get(
        "/v26.0/act_1001/insights",
        query_string={
            "access_token": "sandbox-token",
            "level": "ad",
            "time_increment": "1",
            "time_range": window(date(2025, 4, 1), date(2026, 3, 31)),
            "limit": "500",
        },
    )
    assert len(r.get_json()["data"]) == 500 and len(calls) == 1000
