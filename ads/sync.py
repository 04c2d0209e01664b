"""The Meta sync job: pull daily ad-level insights into spend facts, safely re-runnable.

- Jobs take ids. `start_sync` checks the window (ads/sync_window.py), opens the ledger row
  (ads/sync_runs.py) and hands `sync_account` to the job queue (core/jobs.py: RQ, the
  embedded thread pool, or the caller); an account with a live run gets that run back.
- An attempt claims its run (queued/retrying → running) and beats its heartbeat while it
  works (ads/sync_beat.py). Each page of insights is upserted and committed, and each finished
  window written down in the run, so a killed worker loses at most a page: a retry, or a new
  run of the same window, resumes after it, and a rerun converges on the same totals.
- Rate limits, Meta's transient errors and a database that went away re-enqueue the job later
  (never sleep in a worker), as does usage past SLOW_DOWN_PCT between chunks; code 190 flags
  the account; "too much data" halves the window. Every outcome is a conditional write: an
  attempt whose run was closed meanwhile writes nothing final.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from flask import current_app, has_app_context

from ads import meta
from ads.models import AdAccount, RunStatus, SyncRun
from ads.services import mark_error, mark_needs_reauth
from ads.sync_beat import beater
from ads.sync_health import after_failure, due_for_nightly
from ads.sync_pull import CHUNK_DAYS, Puller, RunLost, SlowDown, keep_loaded
from ads.sync_runs import (
    ATTRIBUTION_WINDOW_DAYS,
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    MAX_ATTEMPTS,
    SyncRefused,
    active_run,
    backoff_seconds,
    claim,
    close_run,
    default_window,
    done_through,
    failures,
    finish,
    job_gone,
    job_id_for,
    note,
    open_run,
    outcome,
    transition,
)
from ads.sync_setup import client_for, db_outage, known_campaigns, refresh_account
from ads.sync_window import WindowRefused, resolve_window, synced_through_after
from analytics.services import mapped_campaign_ids, refresh_goals
from core.audit import acting_as
from core.extensions import db
from core.jobs import QueueUnavailable, WorkHorseKilled, enqueue, enqueue_in, job_mode
from core.jobs import queue_available as _queue_available
from core.money import exponent
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
    "begin_sync",
    "default_window",
    "job_id_for",
    "start_sync",
    "sync_account",
    "sync_all_accounts",
]

log = logging.getLogger(__name__)

JOB_TIMEOUT = 6 * 3600
DB_WAIT_SECONDS = 120  # how long an attempt waits for a database that went away mid-page
QUEUE_DOWN = (
    "The job queue is unavailable (Redis does not answer), so the sync was not started. "
    "Try again in a few minutes"
)
QUEUE_DOWN_HINT = QUEUE_DOWN + " (or run it from the command line with --inline)."


def start_sync(
    account_id: int,
    since: date | None = None,
    until: date | None = None,
    *,
    user_id: int | None = None,
    today_so_far: bool = False,
    origin: str = "",
) -> SyncRun:
    """Create a run and enqueue it (or return the live one). Commits."""
    return begin_sync(
        account_id, since, until, user_id=user_id, today_so_far=today_so_far, origin=origin
    )[0]


def begin_sync(
    account_id: int,
    since: date | None = None,
    until: date | None = None,
    *,
    user_id: int | None = None,
    today_so_far: bool = False,
    origin: str = "",
) -> tuple[SyncRun, bool]:
    """(run, joined): a new run handed to the job queue, or the account's live run. Commits.

    Raises SyncRefused with the reason (no token, a window Meta cannot have, the job queue
    down: then no run is written).
    """
    account = db.session.get(AdAccount, account_id)
    if account is None:
        raise SyncRefused("No such ad account.")
    if not account.has_token:
        raise SyncRefused("This account has no access token: reconnect it first.")
    try:
        window = resolve_window(account, since, until, today_so_far=today_so_far)
    except WindowRefused as exc:
        raise SyncRefused(str(exc)) from None
    if not _queue_available():
        raise SyncRefused(QUEUE_DOWN_HINT)
    run, created = open_run(account, window.since, window.until, user_id, origin)
    if not created:
        if run.status != RunStatus.RUNNING and job_mode() == "rq" and job_gone(run):
            _dispatch(run)  # its job was lost (a Redis restart): queue it again
        return run, True
    if window.note:
        note(run, window_note=window.note)
        db.session.commit()
    _dispatch(run)
    return db.session.get(SyncRun, run.id), False


def _dispatch(run: SyncRun) -> None:
    """Hand the run to the job queue; a queue that is down closes it with the reason."""
    run_id = run.id
    if job_mode() == "thread":
        beater().hold(run_id)  # queued in this process: beat it until its attempt ends
    try:
        handle = enqueue(
            sync_account,
            run.account_id,
            run.since,
            run.until,
            run_id=run_id,
            job_id=run.job_id,
            queue="default",
            timeout=JOB_TIMEOUT,
            on_failure=on_job_failed,
        )
    except QueueUnavailable:
        close_run(run_id, f"Not started: {QUEUE_DOWN[0].lower()}{QUEUE_DOWN[1:]}.")
        raise SyncRefused(QUEUE_DOWN_HINT) from None
    if handle.inline:
        db.session.expire_all()


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
            try:
                window = resolve_window(account, _as_date(since), _as_date(until))
            except WindowRefused as exc:
                return {"skipped": True, "error": str(exc)}
            run, created = open_run(account, window.since, window.until, None, "job")
            if not created:
                return {"skipped": True, "run_id": run.id, "status": run.status}
            run_id = run.id
        return _attempt(run_id)


def _as_date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _attempt(run_id: int) -> dict[str, Any]:
    threaded = job_mode() == "thread"
    beat = beater()
    result: dict[str, Any] = {}
    try:
        run = claim(run_id)
        if run is None:  # final, or another attempt has it: a duplicate job does nothing
            return {"skipped": True, "run_id": run_id}
        attempt = run.attempts
        beat.hold(run_id, attempt)
        try:
            result = _pull(run, attempt)
            return result
        finally:
            beat.release(run_id, attempt=True)
    finally:
        if threaded and result.get("status") != RunStatus.RETRYING:
            beat.release(run_id)  # the hold taken when it was queued here


def _pull(run: SyncRun, attempt: int) -> dict[str, Any]:
    run_id, pages_before = run.id, run.pages
    account = db.session.get(AdAccount, run.account_id)
    client = None
    try:
        client = client_for(account)
        refresh_account(client, account, run)
        campaigns = known_campaigns(client, account, run)
        db.session.commit()
        with keep_loaded():
            Puller(
                client,
                account,
                run,
                campaigns,
                exponent(account.currency),
                attempt,
                slow_down=job_mode() != "inline",
            ).all()
    except RunLost as exc:
        db.session.rollback()
        log.warning("sync run %s stopped: %s", run_id, exc)
        return {"run_id": run_id, "status": "lost", "skipped": True}
    except meta.TokenInvalid as exc:
        db.session.rollback()
        mark_needs_reauth(account, str(exc))
        return _failed(run, attempt, f"Token refused by Meta: {exc}. Reconnect the account.")
    except (meta.RateLimited, meta.TransientError) as exc:
        db.session.rollback()
        return _retry_later(run, attempt, exc, progressed=run.pages > pages_before)
    except meta.MetaError as exc:
        db.session.rollback()
        mark_error(account, str(exc))
        return _failed(run, attempt, f"Meta refused the request: {exc}")
    except Exception as exc:
        if db_outage(exc):
            return _retry_afterdb_outage(run_id, attempt, exc, pages_before)
        db.session.rollback()
        log.exception("sync run %s failed", run_id)
        mark_error(account, "Unexpected error during sync; see the sync log.")
        return _failed(run, attempt, f"Unexpected error: {type(exc).__name__}: {exc}")
    finally:
        if client is not None:
            client.close()
    account.synced_through = synced_through_after(account, run.until)
    account.last_synced_at = utcnow()
    if account.status != "active":
        account.status, account.status_reason = "active", ""
    refresh_goals(mapped_campaign_ids(account.id))
    return finish(run, RunStatus.SUCCEEDED, "", attempt)


def _failed(run: SyncRun, attempt: int, error: str, *, gave_up: bool = False) -> dict[str, Any]:
    result = finish(run, RunStatus.FAILED, error, attempt)
    if not result.get("lost"):
        after_failure(run, gave_up=gave_up)
    return result


def _retry_afterdb_outage(
    run_id: int, attempt: int, exc: BaseException, pages_before: int
) -> dict[str, Any]:
    """Wait (bounded) for the database to answer again, then retry like any transient error.
    If it stays away, the attempt ends; its run goes stale and is closed (and resumed) later."""
    log.warning("sync run %s: database connection failed: %s", run_id, exc)
    deadline = time.monotonic() + DB_WAIT_SECONDS
    pause = 0.5
    while True:
        try:
            db.session.rollback()
            run = db.session.get(SyncRun, run_id, populate_existing=True)
            reason = meta.TransientError(f"the database connection failed ({type(exc).__name__})")
            return _retry_later(run, attempt, reason, progressed=run.pages > pages_before)
        except Exception as again:
            if not db_outage(again) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 10)


def _retry_later(
    run: SyncRun, attempt: int, exc: Exception, *, progressed: bool = False
) -> dict[str, Any]:
    """Come back later (never sleep in a worker), or give up.

    A pause before the limit (SlowDown) is not a failure: only failed attempts in a row, with
    no page stored in between (`progressed`), count towards MAX_ATTEMPTS. RQ's scheduler or
    the embedded executor runs the retry; `ads sync` (mode "here") waits for it in the
    terminal; inline, nobody can, so the run fails saying when to press the button again.
    """
    pause = isinstance(exc, SlowDown)
    failed = (0 if progressed else failures(run)) + (0 if pause else 1)
    reason = str(exc).rstrip(".")
    if failed >= MAX_ATTEMPTS:
        return _failed(
            run, attempt, f"Gave up after {failed} failed attempts: {reason}.", gave_up=True
        )
    mode = job_mode()
    cfg = current_app.config
    base = cfg["SYNC_CLI_RETRY_BASE_SECONDS"] if mode == "here" else cfg["SYNC_RETRY_BASE_SECONDS"]
    delay = backoff_seconds(max(1, failed), getattr(exc, "retry_after", None), base)
    if mode == "inline":
        return _failed(run, attempt, f"{reason[:1].upper()}{reason[1:]}. Try again in {delay} s.")
    resume = done_through(run)
    where = f" from {resume + timedelta(days=1):%-d %b %Y}" if resume else ""
    if pause:
        error = f"Slowing down: {reason}. Resuming{where} in {delay} s."
    else:
        error = (
            f"{reason[:1].upper()}{reason[1:]}. Retrying{where} in {delay} s "
            f"(attempt {attempt + 1})."
        )
    note(run, failures=failed)
    job_id = job_id_for(run, attempt)
    written = transition(
        run,
        attempt,
        status=RunStatus.RETRYING.value,
        error=error,
        next_retry_at=utcnow() + timedelta(seconds=delay),
        job_id=job_id,
    )
    if not written:
        db.session.rollback()
        return outcome(run, lost=True)
    db.session.commit()
    try:
        enqueue_in(
            timedelta(seconds=delay),
            sync_account,
            run.account_id,
            run.since,
            run.until,
            run_id=run.id,
            job_id=job_id,
            timeout=JOB_TIMEOUT,
            on_failure=on_job_failed,
        )
    except QueueUnavailable:  # its job is missing: the reconciler queues it once Redis is back
        log.warning("sync run %s: retry not queued, Redis unavailable", run.id)
    return {"run_id": run.id, "status": RunStatus.RETRYING.value, "retry_in": delay, "error": error}


def on_job_failed(job: Any, connection: Any, exc_type: Any = None, exc: Any = None, tb: Any = None):
    """RQ's (and the embedded executor's) failure callback: close the job's run at once with
    the reason. A job RQ found abandoned (its worker gone) is left alone while its run still
    beats: a work horse orphaned by a killed worker may still be working on it."""
    run_id = (getattr(job, "kwargs", None) or {}).get("run_id")
    if run_id is None:
        return
    name = getattr(exc_type, "__name__", "")
    abandoned = name == "AbandonedJobError"
    if isinstance(exc, WorkHorseKilled):
        reason = f"Interrupted: {exc}. The next sync resumes where it stopped."
    elif abandoned:
        reason = "Interrupted: its worker stopped. The next sync resumes where it stopped."
    else:
        reason = f"Failed: {name or 'error'}: {exc}"
    with _app_context():
        if close_run(int(run_id), reason, job_id=job.id, unless_fresh=abandoned):
            after_failure(db.session.get(SyncRun, int(run_id)), gave_up=False)


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    """The caller's app context, or one of our own (RQ may call back outside any)."""
    if has_app_context():
        yield
        return
    from core.app import create_app

    with create_app().app_context():
        try:
            yield
        finally:
            db.session.remove()


def sync_all_accounts() -> list[int]:
    """The nightly job: one sync per Meta account, an account whose syncs keep failing on a
    back-off of nights (ads/sync_health.py)."""
    from ads.services import accounts_for_nightly

    started = []
    with acting_as("nightly sync"):
        for account in list(accounts_for_nightly()):
            if not due_for_nightly(account):
                log.info("nightly sync of account %s waits (back-off)", account.id)
                continue
            try:
                run = start_sync(account.id, origin="nightly")
            except SyncRefused as exc:
                log.warning("nightly sync skipped for account %s: %s", account.id, exc)
                continue
            started.append(run.id)
    return started
