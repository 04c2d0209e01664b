"""The Graph API sandbox: answers like graph.facebook.com for the calls the Meta sync makes.

    GET  /vNN.N/act_<id>?fields=name,currency,timezone_name,account_status
    GET  /vNN.N/act_<id>/campaigns?fields=id,name,status,objective
    GET  /vNN.N/act_<id>/insights?level=ad&time_range={...}&time_increment=1&fields=...
    POST /vNN.N/act_<id>/insights            -> {"report_run_id": ...}
    GET  /vNN.N/<report_run_id>/              -> async_status, async_percent_completion
    GET  /vNN.N/<report_run_id>/insights      -> the rows, paged

Test hooks live under /__sandbox/: truth, faults (GET/POST/DELETE), stats (GET/DELETE).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ads.sandbox import hooks
from ads.sandbox.data import AccountSpec, SandboxData
from ads.sandbox.faults import (
    ERROR_KINDS,
    GraphError,
    UsageOverride,
    bad_param,
    fault_error,
    unsupported,
)
from ads.sandbox.hooks import json_response
from ads.sandbox.insights import (
    InsightsQuery,
    decode_cursor,
    encode_cursor,
    parse_limit,
    parse_list,
)
from ads.sandbox.state import ReportRun, SandboxState

_SECRET_PARAMS = re.compile(r"\b(access_token|appsecret_proof)=[^&\s]*")
Handler = Callable[[SandboxState, AccountSpec, "ReportRun | None", dict[str, str], str], Any]


def create_sandbox_app(
    data: SandboxData | None = None, *, faults: Mapping[str, Any] | None = None
) -> Flask:
    """A WSGI app serving `data` (default: `SandboxData()`), with `faults` armed from the start.

    The state (data, faults, report runs, counters) is `app.extensions["sandbox"]`.
    """
    app = Flask(__name__)
    state = SandboxState(data or SandboxData())
    if faults:
        state.set_faults(faults)
    app.extensions["sandbox"] = state
    app.add_url_rule("/<version>/<path:rest>", "graph", _graph, methods=["GET", "POST", "DELETE"])
    app.register_blueprint(hooks.bp)
    return app


# -- the Graph API --------------------------------------------------------------------------------


def _classify(method: str, parts: list[str]) -> tuple[str, str]:
    node = parts[0] if parts else ""
    edge = "/".join(parts[1:])
    is_account = node.startswith("act_")
    table = {
        ("GET", True, ""): "account",
        ("GET", True, "insights"): "insights",
        ("POST", True, "insights"): "insights_async",
        ("GET", True, "campaigns"): "campaigns",
        ("GET", False, ""): "report_status",
        ("GET", False, "insights"): "report_results",
    }
    return table.get((method, is_account, edge), "other"), node


def _graph(version: str, rest: str) -> Response:
    state: SandboxState = current_app.extensions["sandbox"]
    parts = [p for p in rest.split("/") if p]
    endpoint, node = _classify(request.method, parts)
    target = f"{request.method} {request.path}"
    params = {**request.form.to_dict(), **request.args.to_dict()}
    account: AccountSpec | None = None
    usage: UsageOverride | None = None
    failed = False
    try:
        if not version.startswith("v") or not version[1:].replace(".", "", 1).isdigit():
            raise GraphError(f"Unknown path components: /{version}", 2500)
        state.authenticate(params)
        account, run = state.resolve(endpoint, node)
        if (opts := state.faults.take("slow", target, endpoint=endpoint)) is not None:
            time.sleep(float(opts.get("seconds", 1.0)))
        if (opts := state.faults.take("usage", target, endpoint=endpoint)) is not None:
            opts.pop("endpoint", None)
            usage = UsageOverride(**opts)
        for kind in ERROR_KINDS:
            if (opts := state.faults.take(kind, target, endpoint=endpoint)) is not None:
                raise fault_error(kind, {"node": node} | opts)
        assert account is not None
        response = json_response(_HANDLERS[endpoint](state, account, run, params, target))
    except GraphError as err:
        failed = True
        usage = err.usage or usage
        if err.html is not None:
            response = Response(err.html, err.status, content_type="text/html; charset=utf-8")
        else:
            response = json_response(err.body(state.trace_id()), err.status)
    calls = state.count(endpoint, account, failed)
    _usage_headers(response, account, endpoint, usage, calls)
    return response


def _usage_headers(
    response: Response,
    account: AccountSpec | None,
    endpoint: str,
    usage: UsageOverride | None,
    calls: int,
) -> None:
    pct = usage.pct if usage else min(40, 1 + calls // 25)
    regain = usage.regain_minutes if usage else 0
    reset = usage.reset_seconds if usage else 0
    tier = "standard_access"
    kind = "ads_insights" if "insights" in endpoint or "report" in endpoint else "ads_management"
    times = {"call_count": pct, "total_cputime": max(0, pct - 1), "total_time": pct}
    response.headers["x-app-usage"] = json.dumps({k: min(pct, 30) for k in times})
    if account is not None:
        buc = {
            account.number: [
                {
                    "type": kind,
                    **times,
                    "estimated_time_to_regain_access": regain,
                    "ads_api_access_tier": tier,
                }
            ]
        }
        response.headers["X-Business-Use-Case-Usage"] = json.dumps(buc)
        response.headers["X-Ad-Account-Usage"] = json.dumps(
            {"acc_id_util_pct": pct, "reset_time_duration": reset, "ads_api_access_tier": tier}
        )
    if "insights" in endpoint or "report" in endpoint:
        response.headers["x-fb-ads-insights-throttle"] = json.dumps(
            {"app_id_util_pct": min(pct, 30), "acc_id_util_pct": pct, "ads_api_access_tier": tier}
        )


def _paged(
    state: SandboxState,
    params: Mapping[str, str],
    target: str,
    total: int,
    rows: Callable[[int, int], list[dict[str, Any]]],
) -> dict[str, Any]:
    limit = parse_limit(params.get("limit"))
    offset = decode_cursor(params.get("after"))
    opts = state.faults.take("fail_on_page", target, page=offset // limit + 1)
    if opts is not None:
        raise fault_error(opts.pop("error"), opts)
    data = rows(offset, limit)
    body: dict[str, Any] = {"data": data}
    if data:
        end = offset + len(data)
        paging: dict[str, Any] = {
            "cursors": {"before": encode_cursor(offset), "after": encode_cursor(end)}
        }
        if end < total:  # Meta's last page has cursors but no "next"
            query = {**request.args.to_dict(), "after": encode_cursor(end)}
            paging["next"] = f"{request.base_url}?{urlencode(query)}"
        body["paging"] = paging
    return body


def _account(state, account, run, params, target) -> dict[str, Any]:
    known = {
        "id": account.id,
        "account_id": account.number,
        "name": account.name,
        "currency": account.currency,
        "timezone_name": account.timezone,
        "account_status": account.account_status,
    }
    fields = parse_list(params.get("fields")) or ["id"]
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise GraphError(
            f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (AdAccount)", 100
        )
    return {f: known[f] for f in fields} | {"id": account.id}


def _campaigns(state, account, run, params, target) -> dict[str, Any]:
    fields = parse_list(params.get("fields")) or ["id"]
    allowed = {"id", "name", "status", "effective_status", "configured_status", "objective"}
    allowed.add("account_id")
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise GraphError(
            f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (Campaign)", 100
        )
    campaigns = state.data.campaigns_of(account.id)

    def rows(offset: int, limit: int) -> list[dict[str, Any]]:
        out = []
        for c in campaigns[offset : offset + limit]:
            known = {
                "id": c.id,
                "name": c.name,
                "status": c.status,
                "effective_status": c.status,
                "configured_status": c.status,
                "objective": c.objective,
                "account_id": account.number,
            }
            out.append({f: known[f] for f in fields} | {"id": c.id})
        return out

    body = _paged(state, params, target, len(campaigns), rows)
    if params.get("summary") in ("true", "1", "total_count"):
        body["summary"] = {"total_count": len(campaigns)}
    return body


def _insights(state, account, run, params, target) -> dict[str, Any]:
    pager = state.pager(InsightsQuery.parse(account, params))
    return _paged(state, params, target, pager.count(), pager.page)


def _insights_async(state, account, run, params, target) -> dict[str, Any]:
    query = InsightsQuery.parse(account, params)
    opts = state.faults.take("job_failed", target)
    outcome = str(opts.get("status", "Job Failed")) if opts is not None else "Job Completed"
    return {"report_run_id": state.new_run(query, outcome).id}


def _report_status(state, account, run, params, target) -> dict[str, Any]:
    status, pct = state.poll(run)
    known = {
        "id": run.id,
        "account_id": account.number,
        "async_status": status,
        "async_percent_completion": pct,
        "date_start": run.query.since.isoformat(),
        "date_stop": run.query.until.isoformat(),
        "is_running": status in ("Job Not Started", "Job Started", "Job Running"),
    }
    fields = parse_list(params.get("fields")) or list(known)
    return {f: known[f] for f in fields if f in known} | {"id": run.id}


def _report_results(state, account, run, params, target) -> dict[str, Any]:
    if run.status != "Job Completed":
        raise bad_param(f"The report {run.id} is not ready: {run.status or 'Job Not Started'}")
    pager = state.pager(run.query)
    return _paged(state, params, target, pager.count(), pager.page)


def _other(state, account, run, params, target) -> dict[str, Any]:
    raise unsupported(request.path)


_HANDLERS: dict[str, Handler] = {
    "account": _account,
    "campaigns": _campaigns,
    "insights": _insights,
    "insights_async": _insights_async,
    "report_status": _report_status,
    "report_results": _report_results,
    "other": _other,
}


# -- serving --------------------------------------------------------------------------------------


class _RedactingHandler(WSGIRequestHandler):
    """Logs requests like werkzeug does, without the access token or appsecret_proof."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path
        self.path = _SECRET_PARAMS.sub(r"\1=[redacted]", path)
        try:
            super().log_request(code, size)
        finally:
            self.path = path


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class RunningSandbox:
    url: str
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def state(self) -> SandboxState:
        return self.app.extensions["sandbox"]

    @property
    def data(self) -> SandboxData:
        return self.state.data


@contextmanager
def serve_sandbox(
    data: SandboxData | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Mapping[str, Any] | None = None,
    quiet: bool = True,
) -> Iterator[RunningSandbox]:
    """Serve the sandbox on a background thread (port 0: a free one) until the block ends."""
    app = create_sandbox_app(data, faults=faults)
    handler = _QuietHandler if quiet else _RedactingHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    thread = threading.Thread(target=server.serve_forever, name="graph-sandbox", daemon=True)
    thread.start()
    try:
        yield RunningSandbox(f"http://{host}:{server.server_port}", app, server, thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 42,
    *,
    faults: Mapping[str, Any] | None = None,
    **sizes: Any,
) -> None:
    """Serve the sandbox in the foreground (threaded werkzeug) until interrupted.

    `sizes` go to SandboxData: days, campaigns, adsets_per_campaign, ads_per_adset, end_date,
    restate_days, tokens, app_secret, async_polls.
    """
    app = create_sandbox_app(SandboxData(seed=seed, **sizes), faults=faults)
    server = make_server(host, port, app, threaded=True, request_handler=_RedactingHandler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
