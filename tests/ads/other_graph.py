"""A second, independent Graph API server, written differently from ads/sandbox on purpose.

The connector must not lean on how our own sandbox happens to write its answers. This one
pretty-prints its JSON, puts `paging` before `data`, writes `next` as a full URL, caps `limit`
at 100, reports purchases under other overlapping types, sends some numbers as JSON numbers,
does not serve the account node (insights carry `account_currency`), and answers async
report runs only after a few polls. Data is a fixed function of (ad, day).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ACCOUNT = "act_777"
CURRENCY = "GBP"
TOKEN = "other-server-token"  # noqa: S105 - a test token
CAMPAIGNS = {"c1": "Spring Sale UK", "c2": "Brand Always-On", "c3": "Retargeting"}
ADS = [(f"ad{i}", f"c{1 + i % 3}", f"as{1 + i % 4}") for i in range(9)]
FIRST_DAY = date(2026, 9, 1)
DAYS = 70
MAX_LIMIT = 100


def ad_day(ad: str, campaign: str, adset: str, day: date) -> dict:
    """One row as this server writes it (no zero metrics: they are omitted, as Meta does)."""
    n = int(ad[2:]) + 1
    k = (day - FIRST_DAY).days + 1
    spend_pence = (n * 731 + k * 97) % 9000 + 150
    impressions = spend_pence * 3 + n * 11
    clicks = impressions // (40 + n)
    row: dict = {
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
        "account_id": ACCOUNT.removeprefix("act_"),
        "account_currency": CURRENCY,
        "campaign_id": campaign,
        "campaign_name": CAMPAIGNS[campaign],
        "adset_id": adset,
        "ad_id": ad,
        "ad_name": f"Ad {n}",
        "spend": str(Decimal(spend_pence).scaleb(-2)),
        "impressions": str(impressions),
        "clicks": clicks if k % 2 else str(clicks),  # sometimes a JSON number
        "reach": str(impressions * 3 // 4),
        "attribution_setting": "7d_click",
    }
    purchases = (n + k) % 4
    if purchases:
        value = Decimal(purchases * (1999 + n * 100)).scaleb(-2)
        # Overlapping types for the same purchases: no omni_purchase here, pixel first.
        row["actions"] = [
            {"action_type": "link_click", "value": str(clicks)},
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": str(purchases)},
            {"action_type": "purchase", "value": str(purchases)},
        ]
        row["action_values"] = [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": str(value)},
            {"action_type": "purchase", "value": str(value)},
        ]
    if (n * k) % 5 == 0:
        row.setdefault("actions", []).append(
            {"action_type": "onsite_conversion.lead_grouped", "value": "1"}
        )
    return row


def rows_for(since: date, until: date) -> list[dict]:
    out = []
    day = since
    while day <= until:
        if FIRST_DAY <= day < FIRST_DAY + timedelta(days=DAYS):
            out.extend(ad_day(ad, c, s, day) for ad, c, s in ADS)
        day += timedelta(days=1)
    return out


def truth(since: date, until: date) -> dict:
    """What a correct sync stores: purchases from `purchase` (the fallback order's first
    present type here), never the sum of the overlapping types."""
    total = {"rows": 0, "spend": Decimal(0), "purchases": 0, "value": Decimal(0), "leads": 0}
    for row in rows_for(since, until):
        total["rows"] += 1
        total["spend"] += Decimal(row["spend"])
        actions = {a["action_type"]: a["value"] for a in row.get("actions", [])}
        values = {a["action_type"]: a["value"] for a in row.get("action_values", [])}
        total["purchases"] += int(actions.get("purchase", 0))
        total["value"] += Decimal(values.get("purchase", 0))
        total["leads"] += int(actions.get("onsite_conversion.lead_grouped", 0))
    return total


@dataclass
class OtherGraph:
    url: str = ""
    requests: list[str] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(f"{request.method} {request.path}")
        params = {**request.form.to_dict(), **request.args.to_dict()}
        if params.get("access_token") != TOKEN:
            return self._error(190, "Invalid OAuth access token.", 401)(environ, start_response)
        parts = [p for p in request.path.split("/") if p][1:]  # drop the version
        return self._route(request, parts, params)(environ, start_response)

    def _route(self, request: Request, parts: list[str], params: dict) -> Response:
        if parts == [ACCOUNT, "campaigns"]:
            data = [{"id": k, "name": v, "status": "ACTIVE"} for k, v in CAMPAIGNS.items()]
            return self._json({"data": data})
        if parts == [ACCOUNT, "insights"] and request.method == "GET":
            return self._insights(request, params, self._window(params))
        if parts == [ACCOUNT, "insights"] and request.method == "POST":
            run_id = str(9000 + len(self.runs))
            self.runs[run_id] = {"window": self._window(params), "polls": 0}
            return self._json({"report_run_id": run_id})
        if len(parts) == 1 and parts[0] in self.runs:
            run = self.runs[parts[0]]
            run["polls"] += 1
            done = run["polls"] >= 3
            status = "Job Completed" if done else "Job Running"
            pct = 100 if run["polls"] >= 2 else 50  # 100 % before it says completed
            return self._json(
                {"id": parts[0], "async_status": status, "async_percent_completion": pct}
            )
        if len(parts) == 2 and parts[0] in self.runs and parts[1] == "insights":
            return self._insights(request, params, self.runs[parts[0]]["window"])
        return self._error(100, f"Unsupported get request. Object with ID '{parts[0]}'", 400, 33)

    @staticmethod
    def _window(params: dict) -> tuple[date, date]:
        window = json.loads(params["time_range"])
        return date.fromisoformat(window["since"]), date.fromisoformat(window["until"])

    def _insights(self, request: Request, params: dict, window: tuple[date, date]) -> Response:
        if params.get("level") == "account":
            return self._json({"data": [{"account_currency": CURRENCY, "spend": "1.00"}]})
        limit = min(int(params.get("limit", 25)), MAX_LIMIT)
        offset = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        rows = rows_for(*window)
        page = rows[offset : offset + limit]
        body: dict = {}
        if page:
            end = offset + len(page)
            after = base64.b64encode(str(end).encode()).decode()
            paging: dict = {"cursors": {"before": "MA==", "after": after}}
            if end < len(rows):
                query = {k: v for k, v in request.args.items() if k != "after"} | {"after": after}
                paging["next"] = f"{self.url}{request.path}?{urlencode(query)}"
            body["paging"] = paging
        body["data"] = page
        return self._json(body)

    @staticmethod
    def _json(body: dict, status: int = 200) -> Response:
        headers = {"x-fb-ads-insights-throttle": '{"app_id_util_pct": 3, "acc_id_util_pct": 5}'}
        return Response(
            json.dumps(body, indent=2), status, headers, content_type="application/json"
        )

    def _error(self, code: int, message: str, status: int, subcode: int | None = None):
        error = {"message": message, "type": "OAuthException", "code": code}
        if subcode:
            error["error_subcode"] = subcode
        return self._json({"error": error}, status)


@contextmanager
def serve_other_graph() -> Iterator[OtherGraph]:
    app = OtherGraph()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=5)
