"""`/healthz`: each dependency's state as JSON, for load balancers and monitoring.

`status` is `ok`, `degraded` (Redis or the workers are missing: pages work, syncs and imports
wait) or `unavailable` (the database is unreachable: nothing works). Only `unavailable` answers
503 by default, so a load balancer keeps serving pages through a Redis outage;
`/healthz?strict=1` answers 503 for `degraded` too, for monitors that only read the code.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, jsonify, request
from rq import Worker
from sqlalchemy import select

from core.errors import first_line, rollback_quietly
from core.extensions import db
from core.jobs import redis_connection


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        state = {"ok": True, **(check() or {})}
    except Exception as exc:  # any failure is the answer, not an error of the health check
        state = {"ok": False, "error": first_line(exc)}
    state["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return state


def check_database() -> dict[str, Any]:
    def ping() -> None:
        try:
            db.session.execute(select(1))
        finally:
            rollback_quietly()

    return _timed(ping)


def check_redis() -> dict[str, Any]:
    return _timed(lambda: redis_connection().ping() and None)


def check_workers() -> dict[str, Any]:
    """Workers registered in Redis (each re-registers within a minute of a Redis restart)."""

    def count() -> dict[str, Any]:
        workers = Worker.all(connection=redis_connection())
        if not workers:
            raise RuntimeError("no worker is running")
        return {"count": len(workers)}

    return _timed(count)


def health() -> tuple[dict[str, Any], int]:
    checks: dict[str, Any] = {"database": check_database()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = check_redis()
        if checks["redis"]["ok"]:
            checks["workers"] = check_workers()
        else:
            checks["workers"] = {"ok": False, "error": "Redis is unreachable"}
    if not checks["database"]["ok"]:
        status = "unavailable"
    elif all(check["ok"] for check in checks.values()):
        status = "ok"
    else:
        status = "degraded"
    strict = request.args.get("strict") not in (None, "", "0")
    code = 200 if status == "ok" or (status == "degraded" and not strict) else 503
    return {"status": status, "checks": checks}, code


def register_health(app: Flask) -> None:
    @app.route("/healthz", endpoint="health")
    def health_view():
        body, code = health()
        response = jsonify(body)
        response.status_code = code
        response.headers["Cache-Control"] = "no-store"
        if code == 503:
            response.headers["Retry-After"] = str(app.config.get("RETRY_AFTER_SECONDS", 30))
        return response
