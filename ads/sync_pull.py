"""One attempt of a Meta sync: its window in chunks, pages parsed ahead, stored, committed.

Split from ads/sync.py (the job, its ledger and its retries). `Puller.all()` raises the
connector's errors (and SlowDown, RunLost) for the job to handle.

Where it got to is written down as it goes, so a later attempt, or a later run of the same
window, resumes instead of starting over: `details["done_through"]`, the last day of the
windows finished so far, and `details["partial"]`, the window being read (its dates, page size
and report run), whose last stored page's cursor is `run.cursor` ("" once its last page is in).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app

from ads import meta
from ads.models import AdAccount, SyncRun
from ads.services import facts_exist, store_facts, upsert_platform_campaign
from ads.sync_beat import beater
from ads.sync_runs import done_through, note, still_running
from core.extensions import db
from core.types import utcnow

CHUNK_DAYS = 92  # one insights request (async when long) per chunk; progress moves per chunk
MIN_PAGE_SIZE = 25  # "too much data": halve the window, then the page, down to this


class SlowDown(meta.RateLimited):
    """Meta's usage headers passed SLOW_DOWN_PCT: pause before the wall, resume later."""


class RunLost(Exception):
    """Another process closed this run (or runs another attempt of it): stop, write nothing."""


@dataclass
class _Chunk:
    since: date
    until: date


def chunks_of(since: date, until: date) -> list[_Chunk]:
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
def keep_loaded() -> Iterator[None]:
    """Commits that do not expire the session's objects, for the page loop: the job is the
    only writer of its run's counters, and reloading the run and the account after every
    page's commit cost a SELECT per page. (Status changes are conditional UPDATEs.)"""
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


@dataclass
class Puller:
    """One attempt's pull of one account's insights into its run."""

    client: meta.MetaClient
    account: AdAccount
    run: SyncRun
    campaigns: dict[str, int]  # platform campaign id -> PlatformCampaign.id
    decimals: int  # of the account currency
    attempt: int = 0
    slow_down: bool = True  # pause (SlowDown) between chunks when Meta's usage runs high

    def all(self) -> None:
        """Every day of the window not finished by an earlier attempt (or the interrupted run
        this one resumes): pulled and committed, window by window.

        The run's own row is read again before each chunk: when another process closed it,
        the pull stops (RunLost). Between chunks, a usage header past SLOW_DOWN_PCT pauses the
        run (SlowDown) instead of running into Meta's wall.
        """
        run = self.run
        done = done_through(run)
        start = run.since if done is None else done + timedelta(days=1)
        partial = (run.details or {}).get("partial")
        if partial and date.fromisoformat(partial["since"]) == start <= run.until:
            self.check()
            self.resume(partial)
            start = date.fromisoformat(partial["until"]) + timedelta(days=1)
        chunks = chunks_of(start, run.until)
        page_size = current_app.config["META_PAGE_SIZE"]
        for index, chunk in enumerate(chunks):
            self.check()
            usage = self.window(chunk.since, chunk.until, page_size)
            if self.slow_down and usage.should_slow_down and index + 1 < len(chunks):
                raise SlowDown(
                    f"usage at {usage.max_pct:g}% of Meta's limit; pausing before it is reached",
                    retry_after=usage.regain_seconds,
                )

    def check(self) -> None:
        if beater().lost(self.run.id) or not still_running(self.run, self.attempt):
            raise RunLost(f"run {self.run.id} was closed or taken over by another process")

    def resume(self, partial: dict[str, Any]) -> meta.Usage:
        """The rest of the window an earlier attempt was reading, from its last stored page
        (within the same report run); from its start if Meta no longer knows that cursor."""
        since, until = date.fromisoformat(partial["since"]), date.fromisoformat(partial["until"])
        after, report_run = self.run.cursor, partial.get("report_run")
        if after == "":  # its last page is stored: only the bookkeeping was missing
            self.finished(until)
            return meta.Usage()
        try:
            return self.segment(
                since, until, int(partial["page_size"]), after=after or None, report_run=report_run
            )
        except (meta.TokenInvalid, meta.RateLimited, meta.TransientError, meta.TooMuchData):
            raise
        except meta.MetaError:
            if not (after or report_run):
                raise
            db.session.rollback()
            return self.window(since, until, current_app.config["META_PAGE_SIZE"])

    def window(self, since: date, until: date, page_size: int) -> meta.Usage:
        """Every page of since..until, stored and committed one by one; the last page's usage.

        When Meta answers "too much data", the window is halved (then the page size) and each
        half pulled in turn; pages already stored are upserted again, unchanged.
        """
        try:
            return self.segment(since, until, page_size)
        except meta.TooMuchData:
            days = (until - since).days + 1
            if days == 1 and page_size <= MIN_PAGE_SIZE:
                raise
            db.session.rollback()
            halves = [(since, until)]
            if days > 1:
                middle = since + timedelta(days=days // 2 - 1)
                halves = [(since, middle), (middle + timedelta(days=1), until)]
            smaller = max(MIN_PAGE_SIZE, page_size // 2)
            usage = meta.Usage()
            for start, end in halves:
                usage = self.window(start, end, smaller)
            return usage

    def segment(
        self,
        since: date,
        until: date,
        page_size: int,
        *,
        after: str | None = None,
        report_run: str | None = None,
    ) -> meta.Usage:
        account, run = self.account, self.run
        # Nothing stored for these days yet (a backfill): pages go in by COPY.
        fresh = not facts_exist(account, since, until)
        reading = {"since": since.isoformat(), "until": until.isoformat(), "page_size": page_size}
        note(run, partial=reading | {"report_run": report_run})
        if after is None:
            run.cursor = None

        def remember(report_id: str) -> None:  # saved with the first page
            note(run, partial=reading | {"report_run": report_id})

        prepare = functools.partial(
            _prepare, decimals=self.decimals, currency=account.currency, campaigns=self.campaigns
        )
        total = (run.until - run.since).days + 1
        progress = min(99, int(100 * ((since - run.since).days + (until - since).days / 2) / total))
        lost = beater().lost
        usage = meta.Usage()
        for page in self.client.iter_insights(
            account.external_id,
            since,
            until,
            level="ad",
            page_size=page_size,
            after=after,
            report_run=report_run,
            on_report=remember,
            fields=meta.SYNC_FIELDS,
            prepare=prepare,
        ):
            if lost(run.id):
                raise RunLost(f"run {run.id} was closed by another process")
            ready: _Prepared = page.prepared
            facts = ready.facts or _fact_rows(account, ready.rows, self.campaigns)
            counts = store_facts(account, facts, run.id, all_new=fresh)
            run.pages += 1
            run.requests += 1
            run.rows_inserted += counts.inserted
            run.rows_updated += counts.updated
            run.rows_unchanged += counts.unchanged
            run.rows_restated += counts.restated
            run.cursor = page.after_cursor or ""
            run.heartbeat_at = utcnow()
            run.progress = max(run.progress, progress)
            db.session.commit()
            usage = page.usage
        self.finished(until)
        return usage

    def finished(self, until: date) -> None:
        """since..until is stored: the next attempt starts after it."""
        run = self.run
        total = (run.until - run.since).days + 1
        run.progress = min(99, int(100 * ((until - run.since).days + 1) / total))
        run.cursor = None
        note(run, done_through=until.isoformat(), partial=None, failures=0)
        db.session.commit()
