"""The sandbox's own endpoints under /__sandbox/: info, ground truth, faults and counters.

GET    /__sandbox/                      seed, dates, accounts, accepted tokens
GET    /__sandbox/truth?account_id=act_1001&since=2026-03-01&until=2026-03-31&level=campaign
GET    /__sandbox/faults                what is armed
POST   /__sandbox/faults                arm faults (JSON, see faults.py), {"restate": true}
DELETE /__sandbox/faults                disarm everything, restatement off
GET    /__sandbox/stats                 requests served, by endpoint and account
DELETE /__sandbox/stats                 zero the counters
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from ads.sandbox.state import SandboxState

bp = Blueprint("sandbox_hooks", __name__, url_prefix="/__sandbox")


def state() -> SandboxState:
    return current_app.extensions["sandbox"]


def json_response(body: Any, status: int = 200) -> Response:
    # orjson: a page of 500 insights rows encodes in well under a millisecond (json: ~6 ms),
    # and the sandbox shares the machine's cores with the sync it serves.
    text = orjson.dumps(body, default=_plain)
    return Response(text, status, content_type="application/json; charset=UTF-8")


def _plain(value: Any) -> str:
    if isinstance(value, (Decimal, date)):
        return str(value)
    raise TypeError(type(value).__name__)


@bp.get("/")
def info() -> Response:
    sandbox = state()
    data = sandbox.data
    accounts = [
        {
            "id": a.id,
            "name": a.name,
            "currency": a.currency,
            "timezone": a.timezone,
            "campaigns": a.campaigns,
            "ads": len(data.ads_of(a.id)),
        }
        for a in data.accounts or ()
    ]
    return json_response(
        {
            "seed": data.seed,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "accounts": accounts,
            "tokens": sorted(data.tokens),
            "restated": data.restated,
        }
    )


def _strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal, date)):
        return str(value)
    return value


@bp.get("/truth")
def truth() -> Response:
    sandbox = state()
    args = request.args
    try:
        restated = {"true": True, "false": False, None: None}[args.get("restated")]
        totals = sandbox.data.totals(
            args.get("account_id", ""),
            date.fromisoformat(args.get("since", "")),
            date.fromisoformat(args.get("until", "")),
            level=args.get("level", "account"),
            restated=restated,
        )
    except (KeyError, ValueError) as exc:
        problem = f"truth needs account_id, since, until[, level, restated]: {exc}"
        return json_response({"error": problem}, 400)
    return json_response(_strings(totals))


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Response:
    sandbox = state()
    if request.method == "POST":
        config = request.get_json(silent=True)
        if not isinstance(config, dict):
            return json_response({"error": "send a JSON object of faults"}, 400)
        try:
            sandbox.set_faults(config)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
    elif request.method == "DELETE":
        sandbox.reset_faults()
    return json_response({"faults": sandbox.faults.snapshot(), "restated": sandbox.data.restated})


@bp.route("/stats", methods=["GET", "DELETE"])
def stats() -> Response:
    sandbox = state()
    if request.method == "DELETE":
        sandbox.reset_stats()
    return json_response(sandbox.stats())
