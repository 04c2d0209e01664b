"""The Meta sync job: pull daily ad-level insights into spend facts, safely re-runnable.

- Jobs take ids. `start_sync` opens the ledger row (ads/sync_runs.py) and enqueues
  `sync_account` under a deterministic job id; an account with a live run gets that run back
  instead of a second one.
- Each page of insights is upserted and committed, and each finished chunk of the window is
  written down in the run, so a killed worker loses at most one page, a retry resumes after
  the last finished chunk, and a rerun converges on the same totals (upserts on natural keys).
- Rate limits re-enqueue the job later (never sleep in a worker), as does usage past
  SLOW_DOWN_PCT between chunks; code 190 flags the account; "too much data" halves the window.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from flask import current_app

from ads import meta
from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import account_token, mark_error, mark_needs_reauth, upsert_platform_campaign
from ads.sync_pull import CHUNK_DAYS, Puller, SlowDown, keep_loaded
from ads.sync_runs import (
    ATTRIBUTION_WINDOW_DAYS,
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    MAX_ATTEMPTS,
    SyncRefused,
    active_run,
    backoff_seconds,
    default_window,
    done_through,
    failures,
    finish,
    job_id_for,
    note,
    open_run,
)
from analytics.services import mapped_campaign_ids, refresh_goals
from core.audit import acting_as
from core.extensions import db
from core.jobs import enqueue, get_queue
from core.money import exponent, known_currencies
from core.types import utcnow

__all__ = [
    "ATTRIBUTION_WINDOW_DAYS",
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "CHUNK_DAYS",
    "MAX_ATTEMPTS",
    "SlowDown",
    "SyncRefused",
    "active_run",
    "backoff_seconds",
    "default_window",
    "job_id_for",
    "start_sync",
    "sync_account",
    "sync_all_accounts",
]

log = logging.getLogger(__name__)

JOB_TIMEOUT = 6 * 3600


def start_sync(
    account_id: int,
    since: date | None = None,
    until: date | None = None,
    *,
    user_id: int | None = None,
) -> SyncRun:
    """Create a run and enqueue it (or return the live one). Commits."""
    account = db.session.get(AdAccount, account_id)
    if account is None:
        raise SyncRefused("No such ad account.")
    if not account.has_token:
        raise SyncRefused("This account has no access token: reconnect it first.")
    run, created = open_run(account, since, until, user_id)
    if not created:
        return run
    handle = enqueue(
        sync_account,
        account.id,
        run.since,
        run.until,
        run_id=run.id,
        job_id=run.job_id,
        queue="default",
        timeout=JOB_TIMEOUT,
    )
    if handle.inline:
        db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def _client(account: AdAccount) -> meta.MetaClient:
    cfg = current_app.config
    return meta.MetaClient(
        account_token(account),
        graph_url=cfg["META_GRAPH_URL"],
        api_version=cfg["META_API_VERSION"],
        app_secret=cfg.get("META_APP_SECRET"),
        timeout=cfg["META_TIMEOUT"],
        poll_interval=cfg["META_POLL_INTERVAL"],
    )


def sync_account(
    account_id: int,
    since: date | str | None = None,
    until: date | str | None = None,
    *,
    run_id: int | None = None,
) -> dict[str, Any]:
    """The job: one Meta account's daily ad insights for since..until. Safe to run twice.

    `start_sync` opens the ledger row and passes its `run_id`; called without one (enqueued
    by hand, say), the job opens its own run, or reports the account's live one and stops.
    Commits page by page.
    """
    with acting_as("sync job"):
        if run_id is None:
            account = db.session.get(AdAccount, account_id)
            if account is None:
                return {"skipped": True, "error": "No such ad account."}
            run, created = open_run(account, _as_date(since), _as_date(until), None)
            if not created:
                return {"skipped": True, "run_id": run.id, "status": run.status}
            run_id = run.id
        return _sync(run_id)


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sync(run_id: int) -> dict[str, Any]:
    run = db.session.get(SyncRun, run_id)
    if run is None or run.is_final:
        return {"skipped": True}
    account = db.session.get(AdAccount, run.account_id)
    run.status = RunStatus.RUNNING.value
    run.attempts += 1
    run.error = ""
    run.heartbeat_at = utcnow()
    db.session.commit()
    client = None
    try:
        client = _client(account)
        _refresh_account(client, account, run)
        campaigns = _known_campaigns(client, account, run)
        db.session.commit()
        with keep_loaded():
            Puller(client, account, run, campaigns, exponent(account.currency)).all()
    except meta.TokenInvalid as exc:
        db.session.rollback()
        _close(client)
        mark_needs_reauth(account, str(exc))
        return finish(
            run, RunStatus.FAILED, f"Token refused by Meta: {exc}. Reconnect the account."
        )
    except (meta.RateLimited, meta.TransientError) as exc:
        db.session.rollback()
        _close(client)
        return _retry_later(run, exc)
    except meta.MetaError as exc:
        db.session.rollback()
        _close(client)
        mark_error(account, str(exc))
        return finish(run, RunStatus.FAILED, f"Meta refused the request: {exc}")
    except Exception as exc:
        db.session.rollback()
        _close(client)
        log.exception("sync run %s failed", run_id)
        run = db.session.get(SyncRun, run_id)
        mark_error(account, "Unexpected error during sync; see the sync log.")
        return finish(run, RunStatus.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}")
    _close(client)
    account.synced_through = max(account.synced_through or run.until, run.until)
    account.last_synced_at = utcnow()
    if account.status != "active":
        account.status, account.status_reason = "active", ""
    refresh_goals(mapped_campaign_ids(account.id))
    return finish(run, RunStatus.SUCCEEDED, "")


def _refresh_account(client: meta.MetaClient, account: AdAccount, run: SyncRun) -> None:
    """The account's name and currency as Meta has them.

    Graph API servers that do not serve the account node (Meta itself always does) still
    give the currency with the insights: asked for there, at account level, in one row.
    Token and rate-limit errors stop the sync as anywhere else.
    """
    try:
        info = client.get_account(account.external_id)
        currency, name = info.currency, info.name
    except (meta.TokenInvalid, meta.RateLimited, meta.TransientError):
        raise
    except meta.MetaError as exc:
        log.warning("account %s: account node unreadable (%s)", account.external_id, exc)
        currency = client.account_currency(account.external_id, run.since, run.until)
        name = ""
        run.requests += 1
    run.requests += 1
    if currency and currency != account.currency:
        if currency not in known_currencies():
            raise meta.MetaError(f"Meta reports the account currency as {currency!r}")
        account.currency = currency
    if not account.currency_known:
        raise meta.MetaError(
            "Meta did not say which currency this account spends in; reconnect it choosing "
            "the account currency"
        )
    if name and account.name in ("", account.external_id):
        account.name = name[:200]


def _known_campaigns(client: meta.MetaClient, account: AdAccount, run: SyncRun) -> dict[str, int]:
    """The account's campaigns (names, statuses, objectives) stored for mapping.

    When the listing is refused (other than for the token or a rate limit), the sync goes on:
    every insights row carries its campaign's id and name, stored as they come.
    """
    campaigns: dict[str, int] = {}
    try:
        listed = client.list_campaigns(account.external_id)
    except (meta.TokenInvalid, meta.RateLimited, meta.TransientError):
        raise
    except meta.MetaError as exc:
        log.warning("account %s: campaign list unreadable (%s)", account.external_id, exc)
        listed = []
    run.requests += 1
    for pc in listed:
        campaigns[pc.id] = upsert_platform_campaign(
            account, pc.id, pc.name, pc.status, pc.objective
        ).id
    return campaigns


def _close(client: Any) -> None:
    if client is not None:
        client.close()


def _retry_later(run: SyncRun, exc: Exception) -> dict[str, Any]:
    """Come back later through RQ's scheduler (never sleep in a worker), or give up.

    A pause before the limit (SlowDown) is not a failure: only failed attempts in a row, with
    no chunk finished in between, count towards MAX_ATTEMPTS.
    """
    pause = isinstance(exc, SlowDown)
    failed = failures(run) + (0 if pause else 1)
    reason = str(exc).rstrip(".")
    if failed >= MAX_ATTEMPTS:
        return finish(run, RunStatus.FAILED, f"Gave up after {failed} failed attempts: {reason}.")
    delay = backoff_seconds(max(1, failed), getattr(exc, "retry_after", None))
    queue = get_queue("default")
    if queue is None:  # inline: nobody can run it later, so say when to press the button again
        return finish(
            run, RunStatus.FAILED, f"{reason[:1].upper()}{reason[1:]}. Try again in {delay} s."
        )
    resume = done_through(run)
    where = f" from {resume + timedelta(days=1):%-d %b %Y}" if resume else ""
    run.status = RunStatus.RETRYING.value
    if pause:
        run.error = f"Slowing down: {reason}. Resuming{where} in {delay} s."
    else:
        run.error = (
            f"{reason[:1].upper()}{reason[1:]}. Retrying{where} in {delay} s "
            f"(attempt {run.attempts + 1})."
        )
    note(run, failures=failed)
    run.next_retry_at = utcnow() + timedelta(seconds=delay)
    run.job_id = job_id_for(run, run.attempts)
    db.session.commit()
    queue.enqueue_in(
        timedelta(seconds=delay),
        sync_account,
        run.account_id,
        run.since,
        run.until,
        run_id=run.id,
        job_id=run.job_id,
        job_timeout=JOB_TIMEOUT,
    )
    return {"run_id": run.id, "status": run.status, "retry_in": delay, "error": run.error}


def sync_all_accounts() -> list[int]:
    """The nightly job: one sync per active Meta account."""
    from ads.services import accounts_for_nightly

    started = []
    for account in list(accounts_for_nightly()):
        try:
            run = start_sync(account.id)
        except SyncRefused as exc:
            log.warning("nightly sync skipped for account %s: %s", account.id, exc)
            continue
        started.append(run.id)
    return started
