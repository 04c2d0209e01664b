"""The Meta sync job: pull daily ad-level insights into spend facts, safely re-runnable.

- Jobs take ids. `start_sync` creates the ledger row and enqueues `sync_account` under a
  deterministic job id; an account with a live run gets that run back instead of a second one.
- Each page of insights is upserted and committed with the run's cursor, so a killed worker
  loses at most one page and a rerun converges on the same totals (upserts on natural keys).
- Rate limits re-enqueue the job later (never sleep in a worker); code 190 flags the account.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from rq import Worker
from sqlalchemy import select

from ads import meta
from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import (
    account_token,
    facts_exist,
    mark_error,
    mark_needs_reauth,
    store_facts,
    upsert_platform_campaign,
)
from analytics.services import mapped_campaign_ids, refresh_goals
from core.audit import acting_as
from core.extensions import db
from core.jobs import enqueue, fetch_job, get_queue
from core.money import exponent
from core.types import utcnow

log = logging.getLogger(__name__)

ATTRIBUTION_WINDOW_DAYS = 28
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
CHUNK_DAYS = 92  # one insights request (async when long) per chunk; progress moves per chunk


class SyncRefused(RuntimeError):
    """A sync cannot start (no token, account needs re-authorisation...)."""


def job_id_for(run: SyncRun, attempt: int = 0) -> str:
    """Deterministic per run and attempt; one live run per account is enforced by `active_run`.

    A job killed with its worker may be re-queued by RQ's registry cleanup: under its own id it
    finds its run already final and does nothing, instead of standing in for a newer run.
    """
    base = f"sync-account-{run.account_id}-run-{run.id}"
    return base + (f"-retry-{attempt}" if attempt else "")


def default_window(account: AdAccount, today: date | None = None) -> tuple[date, date]:
    """First sync backfills; later ones re-pull the attribution window up to yesterday."""
    today = today or datetime.now(UTC).date()
    until = today - timedelta(days=1)
    if account.synced_through is None:
        since = until - timedelta(days=max(1, account.backfill_days) - 1)
    else:
        since = min(account.synced_through + timedelta(days=1), until) - timedelta(
            days=ATTRIBUTION_WINDOW_DAYS - 1
        )
    return since, until


def _live(run: SyncRun) -> bool:
    """Is some worker (or the caller, inline) still responsible for this run?"""
    if run.is_final:
        return False
    if not current_app.config.get("REDIS_URL"):
        return False  # inline runs finish before the request does: a leftover is stale
    job = fetch_job(run.job_id) if run.job_id else None
    if job is None:
        return False
    status = job.get_status(refresh=True)
    if status is None or status.value not in ("queued", "started", "scheduled", "deferred"):
        return False
    if status.value != "started":
        return True
    # Started: only as alive as the worker running it (a SIGKILLed worker stops beating).
    worker = (
        Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, job.connection)
        if job.worker_name
        else None
    )
    if worker is None or worker.last_heartbeat is None:
        return False
    # The worker beats every 30 s while a job runs; SYNC_STALE_SECONDS without one = dead.
    stale = current_app.config["SYNC_STALE_SECONDS"]
    return (datetime.now(UTC) - worker.last_heartbeat).total_seconds() < stale


def active_run(account_id: int) -> SyncRun | None:
    runs = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account_id, SyncRun.kind == "meta_sync")
        .where(SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.RETRYING]))
        .order_by(SyncRun.id.desc())
    ).all()
    live = None
    for run in runs:
        if live is None and _live(run):
            live = run
            continue
        # A run nobody works on any more (worker killed): say so, never leave it "running",
        # and drop its dead job so the account's job id is free for the rerun.
        job = fetch_job(run.job_id) if run.job_id else None
        if job is not None:
            job.delete()
        run.status = RunStatus.FAILED.value
        run.error = run.error or "Interrupted: the worker stopped before the sync finished."
        run.finished_at = utcnow()
    return live


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
    existing = active_run(account_id)
    if existing is not None:
        db.session.commit()
        return existing
    default_since, default_until = default_window(account)
    since, until = since or default_since, until or default_until
    if since > until:
        raise SyncRefused("The start date must be on or before the end date.")
    run = SyncRun(
        account_id=account.id,
        kind="meta_sync",
        status=RunStatus.QUEUED.value,
        since=since,
        until=until,
        started_by_id=user_id,
    )
    db.session.add(run)
    db.session.flush()
    run.job_id = job_id_for(run)
    db.session.commit()
    handle = enqueue(sync_account, run.id, job_id=run.job_id, queue="default", timeout=6 * 3600)
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


@dataclass
class _Chunk:
    since: date
    until: date


def _chunks(since: date, until: date) -> list[_Chunk]:
    out, start = [], since
    while start <= until:
        end = min(until, start + timedelta(days=CHUNK_DAYS - 1))
        out.append(_Chunk(start, end))
        start = end + timedelta(days=1)
    return out


@dataclass
class _Prepared:
    """A page made ready off the main thread: parsed rows, and when every campaign in it is
    known, its fact tuples."""

    rows: list[meta.MinorRow]
    facts: list[tuple] | None = None


def _prepare(
    data: list[dict[str, Any]],
    *,
    decimals: int,
    currency: str,
    campaigns: dict[str, int],
) -> _Prepared:
    rows = [meta.parse_minor_row(row, decimals) for row in data]
    if any(r.campaign_id not in campaigns for r in rows):
        return _Prepared(rows)  # the main thread stores the new campaign first
    return _Prepared(rows, _facts(rows, campaigns, currency))


def _fact_rows(
    account: AdAccount, rows: list[meta.MinorRow], campaigns: dict[str, int]
) -> list[tuple]:
    """`_facts`, storing the platform campaigns not seen before."""
    for r in rows:
        if r.campaign_id not in campaigns:
            pc = upsert_platform_campaign(account, r.campaign_id, r.campaign_name)
            campaigns[r.campaign_id] = pc.id
    return _facts(rows, campaigns, account.currency)


def _facts(rows: list[meta.MinorRow], campaigns: dict[str, int], currency: str) -> list[tuple]:
    """Parsed Meta rows as fact tuples (services.FACT_FIELDS order), money in minor units."""
    return [
        (
            campaigns[r.campaign_id],
            "ad",
            r.ad_id,
            r.date,
            r.attribution_setting,
            currency,
            r.spend_minor,
            r.impressions,
            r.clicks,
            r.reach,
            r.purchases,
            r.leads,
            r.purchases + r.leads,
            r.purchase_value_minor,
            r.adset_id,
            r.ad_name[:400],
        )
        for r in rows
    ]


@contextmanager
def _keep_loaded() -> Iterator[None]:
    """Commits that do not expire the session's objects, for the page loop: the job is the
    only writer of its run row, and reloading the run and the account after every page's
    commit cost a SELECT per page."""
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


def _pull(
    client: meta.MetaClient,
    account: AdAccount,
    run: SyncRun,
    chunks: list[_Chunk],
    campaigns: dict[str, int],
    decimals: int,
) -> None:
    """Every page of every chunk: stored, counted in the run's ledger and committed."""
    for index, chunk in enumerate(chunks):
        # Nothing stored for these days yet (a backfill): pages go in by COPY.
        fresh = not facts_exist(account, chunk.since, chunk.until)
        prepare = functools.partial(
            _prepare,
            decimals=decimals,
            currency=account.currency,
            campaigns=campaigns,
        )
        for page in client.iter_insights(
            account.external_id,
            chunk.since,
            chunk.until,
            level="ad",
            page_size=current_app.config["META_PAGE_SIZE"],
            fields=meta.SYNC_FIELDS,
            prepare=prepare,
        ):
            ready: _Prepared = page.prepared
            facts = ready.facts or _fact_rows(account, ready.rows, campaigns)
            counts = store_facts(account, facts, run.id, all_new=fresh)
            run.pages += 1
            run.requests += 1
            run.rows_inserted += counts.inserted
            run.rows_updated += counts.updated
            run.rows_unchanged += counts.unchanged
            run.rows_restated += counts.restated
            run.cursor = page.after_cursor
            run.heartbeat_at = utcnow()
            run.progress = min(99, int(100 * (index + 0.5) / len(chunks)))
            db.session.commit()
        run.progress = min(99, int(100 * (index + 1) / len(chunks)))
        db.session.commit()


def sync_account(run_id: int) -> dict[str, Any]:
    """The job. Safe to run twice; commits per page."""
    with acting_as("sync job"):
        return _sync(run_id)


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
        info = client.get_account(account.external_id)
        run.requests += 1
        if info.currency and info.currency != account.currency:
            account.currency = info.currency
        if info.name and account.name in ("", account.external_id):
            account.name = info.name
        campaigns: dict[str, int] = {}
        for pc in client.list_campaigns(account.external_id):
            campaigns[pc.id] = upsert_platform_campaign(
                account, pc.id, pc.name, pc.status, pc.objective
            ).id
        run.requests += 1
        db.session.commit()
        decimals = exponent(account.currency)
        chunks = _chunks(run.since, run.until)
        with _keep_loaded():
            _pull(client, account, run, chunks, campaigns, decimals)
    except meta.TokenInvalid as exc:
        db.session.rollback()
        _close(client)
        mark_needs_reauth(account, str(exc))
        return _finish(
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
        return _finish(run, RunStatus.FAILED, f"Meta refused the request: {exc}")
    except Exception as exc:
        db.session.rollback()
        _close(client)
        log.exception("sync run %s failed", run_id)
        run = db.session.get(SyncRun, run_id)
        mark_error(account, "Unexpected error during sync; see the sync log.")
        return _finish(run, RunStatus.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}")
    _close(client)
    account.synced_through = max(account.synced_through or run.until, run.until)
    account.last_synced_at = utcnow()
    if account.status != "active":
        account.status, account.status_reason = "active", ""
    refresh_goals(mapped_campaign_ids(account.id))
    return _finish(run, RunStatus.SUCCEEDED, "")


def _close(client: Any) -> None:
    if client is not None:
        client.close()


def _finish(run: SyncRun, status: RunStatus, error: str) -> dict[str, Any]:
    run.status = status.value
    run.error = error
    run.finished_at = utcnow()
    run.next_retry_at = None
    if status is RunStatus.SUCCEEDED:
        run.progress = 100
    db.session.commit()
    return {
        "run_id": run.id,
        "status": run.status,
        "inserted": run.rows_inserted,
        "updated": run.rows_updated,
        "restated": run.rows_restated,
        "error": run.error,
    }


def backoff_seconds(attempt: int, hinted: float | None) -> int:
    if hinted:
        return int(min(max(hinted, 1), BACKOFF_CAP_SECONDS))
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1), BACKOFF_CAP_SECONDS))


def _retry_later(run: SyncRun, exc: Exception) -> dict[str, Any]:
    kind = "rate limited" if isinstance(exc, meta.RateLimited) else "temporary error"
    if run.attempts >= MAX_ATTEMPTS:
        return _finish(
            run, RunStatus.FAILED, f"Gave up after {run.attempts} attempts ({kind}): {exc}"
        )
    delay = backoff_seconds(run.attempts, getattr(exc, "retry_after", None))
    queue = get_queue("default")
    if queue is None:  # inline: nobody can run it later, so say when to press the button again
        return _finish(run, RunStatus.FAILED, f"Meta {kind}: {exc}. Try again in {delay} s.")
    run.status = RunStatus.RETRYING.value
    run.error = f"Meta {kind}: {exc}. Retrying in {delay} s (attempt {run.attempts + 1})."
    run.next_retry_at = utcnow() + timedelta(seconds=delay)
    run.job_id = job_id_for(run, run.attempts)
    db.session.commit()
    queue.enqueue_in(
        timedelta(seconds=delay), sync_account, run.id, job_id=run.job_id, job_timeout=6 * 3600
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
